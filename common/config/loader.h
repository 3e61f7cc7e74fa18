// Loading a configuration: reads the main file, follows `include` / `readonly_include` (files
// and directories) through the search path, enforces the size and depth limits, and returns an
// immutable Config snapshot. Every problem is collected as a Diagnostic with file:line:column.
// Stateless functions; call from any thread (they only read files and the environment).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/config/location.h"
#include "common/config/tree.h"

namespace ec::config {

struct LoadLimits {
  int max_include_depth = 16;               // files in one include chain
  int max_nesting = 64;                     // scopes + lists + dicts
  size_t max_file_size = size_t{16} << 20;  // bytes per file
  int max_files = 1024;                     // files read in total
};

struct LoadOptions {
  // The runtime root (etc/, spool/, log/, run/); its etc/ and etc/conf/<dir> are the default
  // search path.
  std::string root = "/opt/ecmta";
  std::string node_name;  // selects etc/conf/<node_name> in the default search path
  // Explicit search path; wins over EC_CONF_SEARCH_PATH and the default.
  std::vector<std::string> search_path;
  bool use_environment = true;  // read EC_CONF_SEARCH_PATH when search_path is empty
  bool allow_includes = true;   // false: an include statement is an error (fuzzing, strings)
  LoadLimits limits;
};

inline constexpr char kSearchPathEnv[] = "EC_CONF_SEARCH_PATH";

// <root>/etc, <root>/etc/conf/global, <root>/etc/conf/<node> (if named), <root>/etc/conf/default.
std::vector<std::string> DefaultSearchPath(std::string_view root, std::string_view node_name);
// Splits a ':'-separated path, dropping empty entries.
std::vector<std::string> SplitSearchPath(std::string_view path);
// The path LoadOptions selects: explicit, else the environment, else the default.
std::vector<std::string> EffectiveSearchPath(const LoadOptions& options);

// Parses `path` (found as given, else through the search path when relative) and its includes.
// Always returns a tree, possibly partial; syntax and include errors are appended to `diags`.
std::shared_ptr<const Config> ParseConfigFile(const std::string& path, const LoadOptions& options,
                                              Diagnostics* diags);
// Parses in-memory text named `name` (includes resolve like a file in the current directory,
// or are refused when options.allow_includes is false).
std::shared_ptr<const Config> ParseConfigString(std::string_view text, const std::string& name,
                                                const LoadOptions& options, Diagnostics* diags);

}  // namespace ec::config
