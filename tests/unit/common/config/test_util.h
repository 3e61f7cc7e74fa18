// Helpers for the config tests: a temporary directory that writes fixture files and removes
// itself, and shortcuts that parse text and collect diagnostics as strings.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config/loader.h"
#include "common/config/schema.h"
#include "common/config/validate.h"

namespace ec::config::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ec_config_test.XXXXXX").string();
    EC_CHECK(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to path()/rel (parents created); returns the full path.
  std::string Write(const std::string& rel, const std::string& content) const {
    std::filesystem::path p = path_ / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

inline std::vector<std::string> Messages(const Diagnostics& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags) out.push_back(d.ToString());
  return out;
}

// Parses `text` as "t.conf" with includes refused; returns the config, fills `diags`.
inline std::shared_ptr<const Config> Parse(const std::string& text, Diagnostics* diags) {
  LoadOptions o;
  o.allow_includes = false;
  o.use_environment = false;
  return ParseConfigString(text, "t.conf", o, diags);
}

// Parse + Validate against the default schema; every problem as "file:l:c: error: msg".
inline std::vector<std::string> Check(const std::string& text) {
  Diagnostics diags;
  auto config = Parse(text, &diags);
  Diagnostics more = Validate(*config, DefaultSchema());
  diags.insert(diags.end(), more.begin(), more.end());
  return Messages(diags);
}

}  // namespace ec::config::testing
