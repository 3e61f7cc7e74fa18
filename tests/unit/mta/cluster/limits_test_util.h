// Shared by the cluster-limit config tests (they link into one binary).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mta/cluster/shared_limits_config.h"
#include "tests/unit/common/config/test_util.h"

namespace ec::mta::cluster {

// `text` parsed and validated against the default schema; any problem but `warnings` (options
// nothing acts on yet) fails the test.
inline std::shared_ptr<const config::Config> ParseValid(
    const std::string& text, const std::vector<std::string>& warnings = {}) {
  config::Diagnostics diags;
  auto config = config::testing::Parse(text, &diags);
  config::Diagnostics more = config::Validate(*config, config::DefaultSchema());
  diags.insert(diags.end(), more.begin(), more.end());
  EXPECT_THAT(config::testing::Messages(diags), ::testing::ElementsAreArray(warnings)) << text;
  return config;
}

// ValidateClusterLimits' problems for `text`, one a line, with the column dropped:
// "t.conf:3: message".
inline std::vector<std::string> ValidationProblems(const std::string& text) {
  Status s = ValidateClusterLimits(*ParseValid(text));
  if (s.ok()) return {};
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  std::vector<std::string> out;
  std::string message = s.message();
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    std::string line = message.substr(start, end == std::string::npos ? end : end - start);
    // t.conf:LINE:COLUMN: ... -> t.conf:LINE: ...
    size_t a = line.find(':'), b = line.find(':', a + 1), c = line.find(':', b + 1);
    out.push_back(line.substr(0, b) + line.substr(c));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace ec::mta::cluster
