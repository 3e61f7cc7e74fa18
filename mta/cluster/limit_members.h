// Which bus members take part in the cluster-wide limits (docs/cluster-limits.md): the pure
// decision behind SharedReplication's quorum and leader (replication::LeaderOf). Any thread.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "msgc/membership.h"

namespace ec::mta::cluster {

// The members that take part in the limits: every configured bus member (self always) but the
// manager role (`control_peers`) and bystanders: members seen alive for a while without joining
// `group` (ecconfigd), remembered in `bystanders` until they join it. A dead member counts (it
// may come back holding nothing, or be cut off holding units). Leaving a live member out can
// only make a majority harder to reach, never easier.
struct LimitMembers {
  std::vector<std::string> members;  // configured participants, sorted
  std::vector<std::string> alive;    // of those, alive (self included)
};
LimitMembers LimitMembersOf(const msgc::View& view, const std::string& self,
                            const std::string& group, const std::set<std::string>& control_peers,
                            std::set<std::string>* bystanders, msgc::Clock::time_point now);

}  // namespace ec::mta::cluster
