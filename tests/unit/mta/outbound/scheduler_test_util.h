// The configuration a scheduler test runs under, parsed the one way every scheduler test
// parses it (no includes, no environment), and the spool options it runs with. Header-only.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "common/base/check.h"
#include "common/config/loader.h"
#include "common/event/event_base.h"
#include "mta/outbound/scheduler.h"
#include "mta/spool/spool.h"

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

// Options for a spool under `dir` whose callbacks run on `base`'s loop, as the scheduler's do
// in ecmta; quiet.
inline spool::SpoolOptions LoopSpoolOptions(const std::string& dir, event::EventBase* base) {
  spool::SpoolOptions options;
  options.spoolbase = dir;
  options.log = [](std::string_view) {};
  options.post = [base](std::function<void()> fn) { base->RunInLoop(std::move(fn)); };
  return options;
}

}  // namespace ec::outbound::testing
