// What every scheduler test sets up the same way: the configuration, parsed the one way (no
// includes, no environment), a Domain routed to a test server, the spool options, the scheduler
// itself, and a message stored and handed to it. Header-only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// A Domain stanza routing `domain` to 127.0.0.1:`port`, connections idling out after `idle`.
inline std::string RouteTo(const std::string& domain, uint16_t port, const std::string& extra = "",
                           const std::string& idle = "0.3") {
  return "Domain \"" + domain + "\" {\n  Routes = ( \"smtp://127.0.0.1:" + std::to_string(port) +
         "\" )\n  idle_timeout = " + idle + "\n" + extra + "}\n";
}

// A scheduler on `base` and `spool` for `config_text` (node "n1"), with `limits` if given.
inline std::unique_ptr<Scheduler> StartScheduler(event::EventBase* base, spool::Spool* spool,
                                                 const std::string& config_text,
                                                 OutboundLimits* limits = nullptr) {
  auto [config, global] = ParseSchedulerConfig(config_text);
  return std::make_unique<Scheduler>(
      SchedulerServices{.base = base, .spool = spool, .limits = limits, .node_name = "n1"},
      config, global);
}

// A message from s@src.test to `rcpts`, stored (running `base` until it is) and handed to the
// scheduler, as the listener does; aborts when it cannot be stored.
inline spool::QueueId StoreAndAdd(event::EventBase& base, spool::Spool& spool,
                                  Scheduler& scheduler, const std::vector<std::string>& rcpts,
                                  int64_t received_us = 1700000000000000) {
  spool::Envelope env;
  env.mail_from = "s@src.test";
  for (const std::string& r : rcpts) env.rcpts.push_back({r, "", 0});
  env.received_us = received_us;
  std::optional<Result<spool::QueueId>> stored;
  spool.Submit(env, "Subject: hi\r\n\r\nhello\r\n",
               [&](Result<spool::QueueId> r) { stored.emplace(std::move(r)); });
  EC_CHECK(base.RunUntil([&] { return stored.has_value(); }, std::chrono::seconds(20)));
  EC_CHECK(stored->ok());
  scheduler.Add(**stored, rcpts);
  return **stored;
}

}  // namespace ec::outbound::testing
