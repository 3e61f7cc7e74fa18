// The configuration a scheduler test runs under, parsed the one way every scheduler test
// parses it (no includes, no environment). Header-only.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "common/base/check.h"
#include "common/config/loader.h"
#include "mta/outbound/scheduler.h"

namespace ec::outbound::testing {

struct SchedulerConfig {
  std::shared_ptr<const config::Config> config;
  GlobalOutbound global;
};

// `text` parsed, with its global outbound settings; aborts on a config the test got wrong.
inline SchedulerConfig ParseSchedulerConfig(const std::string& text) {
  config::LoadOptions o;
  o.allow_includes = false;
  o.use_environment = false;
  config::Diagnostics diags;
  std::shared_ptr<const config::Config> config =
      config::ParseConfigString(text, "t.conf", o, &diags);
  EC_CHECK(config != nullptr);
  auto global = BuildGlobalOutbound(config, "mx.test");
  EC_CHECK(global.ok());
  return {std::move(config), std::move(global).value()};
}

}  // namespace ec::outbound::testing
