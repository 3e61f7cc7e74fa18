// Subclusters on the bus, as in Momentum: every MTA node joins the group `ec_sc_<subcluster>`,
// its subcluster being cluster.boot's `cluster_name` (written by `eccfg bootstrap --clustername`
// or by enrolment; "default" without one), and the manager reads a member's subcluster from its
// groups (the aggregated logs' `%{s}`, docs/log-aggregation.md). Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::msgc {

inline constexpr std::string_view kSubclusterGroupPrefix = "ec_sc_";
inline constexpr std::string_view kDefaultSubcluster = "default";

// 1..58 of [A-Za-z0-9_-]: ecconfigd's repository names, short enough that `ec_sc_<name>` is a
// group name (64 at most).
bool IsValidSubclusterName(std::string_view name);

// "ec_sc_<subcluster>"; kInvalidArgument for a name IsValidSubclusterName refuses.
Result<std::string> SubclusterGroup(std::string_view subcluster);

// The subcluster a cluster.boot names: its last `cluster_name=` line (blanks around the key and
// the value ignored, `#` lines skipped), "default" when there is none. Other keys are eccfg's
// business and are not checked here. kInvalidArgument for an empty or invalid name.
Result<std::string> SubclusterFromClusterBoot(std::string_view text);

// The subcluster of a member with these groups: the first `ec_sc_<name>` (sorted sets: the
// smallest), "default" when it names none.
template <typename Groups>
std::string SubclusterOf(const Groups& groups) {
  for (const std::string& g : groups) {
    if (g.size() > kSubclusterGroupPrefix.size() && g.starts_with(kSubclusterGroupPrefix)) {
      return g.substr(kSubclusterGroupPrefix.size());
    }
  }
  return std::string(kDefaultSubcluster);
}

}  // namespace ec::msgc
