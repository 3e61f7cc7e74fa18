// Shared by the cluster-limit config tests (they link into one binary).
#pragma once

#include <memory>
#include <string>
#include <vector>

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

}  // namespace ec::mta::cluster
