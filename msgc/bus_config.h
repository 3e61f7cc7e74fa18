// BusConfig: the bus settings of one member read from the loaded configuration
// (global/msgc_server.conf's `msgc_server { }` and `cluster { view_mature_time }`), shared by
// ecmta's cluster module, eccmgr and ecconfigd so they all read the same file the same way.
// Pure functions over an immutable Config; any thread.
#pragma once

#include <chrono>
#include <set>
#include <string>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "msgc/bus_options.h"

namespace ec::msgc {

struct BusConfig {
  BusOptions bus;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds health_interval{10000};
  std::string control_group = "ec_console";
  // cluster { control_peers }: the members in the manager role, the only ones whose relayed
  // console commands and ECCluster journal requests this member accepts. Empty: nobody's.
  std::set<std::string> control_peers;
};

// True when the config has an msgc_server scope with peers, i.e. this host is a bus member.
bool HasBusConfig(const config::Config& config);

// `self` is this member's node name. `default_secret_key` is used when `curve_secret_key` is
// not set (normally <root>/etc/msgc.key). The public key directory defaults to `msgc_keys`
// beside the file that holds msgc_server. Errors name the setting's file:line.
Result<BusConfig> BusConfigFromConfig(const config::Config& config, const std::string& self,
                                      const std::string& default_secret_key);

// With CURVE on: loads this host's key pair, or makes one (and writes its public half to
// `<public_key_dir>/<self>.pub` if no such file exists yet) on the first start.
Status EnsureOwnKeyPair(const BusOptions& options);

}  // namespace ec::msgc
