// BusOptions: everything a Bus needs, as a plain struct, so the bus does not depend on the config
// parser (the cluster module fills it from global/msgc_server.conf). Value type; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::msgc {

// One log line, `key=value` fields, without a trailing newline. Called on the loop thread.
using LogFn = std::function<void(std::string_view line)>;

struct CurveOptions {
  // This host's key pair (msgc/curve_keys.h format, mode 0600). Empty: the bus runs in plain
  // text and accepts any peer that names a configured node (development and tests only).
  std::string secret_key_file;
  // Directory holding `<node>.pub` for every configured node (global/msgc_keys in the repo).
  std::string public_key_dir;

  bool enabled() const { return !secret_key_file.empty(); }
};

struct BusOptions {
  std::string self;                          // this node's name; must be a key of `peers`
  std::map<std::string, std::string> peers;  // node name -> address (IPv4/host), self included
  uint16_t port = 4809;                      // every node binds its own address, same port
  std::chrono::milliseconds heartbeat_interval{250};
  // Silence after which a peer is declared DEAD; at least 3 heartbeat intervals.
  std::chrono::milliseconds dead_timeout{1500};
  std::chrono::milliseconds view_mature_time{5000};  // Momentum's view_mature_time
  // Frames handled per loop wakeup before yielding to other events (msgc messages_per_iter).
  int messages_per_iteration = 1000;
  int send_high_water_mark = 10000;  // frames queued per peer before sends fail
  CurveOptions curve;
  LogFn log;  // default: stderr
};

// Names, addresses, timers: the problems a config author should hear about, one per Status.
Status ValidateBusOptions(const BusOptions& options);

}  // namespace ec::msgc
