// Parser of one config file's text into a Scope: options `name = value`, singleton scopes
// `Type { ... }`, named scopes `Type "name" { ... }`, values (words, strings, lists, dicts) and
// `include` / `readonly_include` statements, which it hands to an IncludeHandler so the parser
// itself never touches the file system. Syntax errors are reported (all of them, with
// file:line:column) and parsing resumes at the next line. One thread; no state between calls.
#pragma once

#include <functional>
#include <string_view>

#include "common/config/location.h"
#include "common/config/tree.h"

namespace ec::config {

struct IncludeRequest {
  std::string path;  // as written
  bool read_only = false;
  Location location;  // of the include keyword
  int nesting = 0;    // scope nesting at the include, counted toward the nesting limit
};

// Parses the target file into `into` (appending). Returns nothing: problems go to the diags.
using IncludeHandler = std::function<void(const IncludeRequest&, Scope* into)>;

struct ParseContext {
  std::string file;         // name used in Locations
  bool read_only = false;   // mark every node read-only
  int max_nesting = 64;     // scopes, lists and dicts, counted together
  int initial_nesting = 0;  // nesting of the scope the text is parsed into
  IncludeHandler include;   // null: include statements are errors
};

// Parses `text` and appends its statements to `into`.
void ParseInto(std::string_view text, const ParseContext& ctx, Scope* into, Diagnostics* diags);

// Parses a single value written in config syntax ("32", "( a b )", "[ k = v ]"); used for
// schema defaults and `ec_conf` arguments.
Result<Value> ParseValueText(std::string_view text, std::string_view origin);

}  // namespace ec::config
