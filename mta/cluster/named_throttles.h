// Shared named throttles as configured (docs/cluster-limits.md, "Shared named throttles"):
// `Shared_Throttle "<name>" { messages = "N/secs" }` at global scope, taken by each inbound
// transaction through a scope whose `shared_throttle` names it. Each one is a cluster limit
// object "shared_named_throttles/<name>" (the name lower-cased: names match in any case), shared
// through the Replicate type shared_named_throttles like the cluster_* limits. Pure functions
// over an immutable Config; any thread.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/config/tree.h"
#include "mta/cluster/shared_limits_config.h"

namespace ec::mta::cluster {

inline constexpr char kNamedThrottleType[] = "shared_named_throttles";

// By lower-cased name, every Shared_Throttle; limit 0 (no rule is taken) when `messages` is
// unset, 0 or malformed (the schema check reports a malformed one).
std::map<std::string, LimitRule> ReadSharedThrottles(const config::Config& config);

struct LimitProblem {
  config::Location at;
  std::string text;  // after "file:line:column: "
};

// For ValidateClusterLimits: a Shared_Throttle with a limit in a clustered config (one with
// msgc_server peers) while no Replicate has type shared_named_throttles (`replicate_types`,
// lower-case), and every `shared_throttle` naming no Shared_Throttle.
std::vector<LimitProblem> CheckSharedThrottles(const config::Config& config,
                                               const std::set<std::string>& replicate_types);

}  // namespace ec::mta::cluster
