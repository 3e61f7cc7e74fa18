// Which journal subscribers a manager reads on a node, from Momentum's eccluster.conf scopes:
//
//   Logs {
//     Manager "eastmgr" {
//       subscriber = ( "east" )        # this manager, every node (ecmta extension)
//       Node "west1" { subscriber = ( ) }   # this manager pulls nothing from west1
//     }
//   }
//
// The innermost `subscriber` set wins (Node, then Manager); without one the manager tries its
// own name, then "master" (Momentum's default), taking the first the node's journal has. An
// empty list means "do not pull this node". Pure functions over an immutable Config; any thread.
#pragma once

#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"

namespace ec::logcollect {

// Candidates in order of preference; empty: this manager does not pull `node`. A `subscriber`
// that is not a list of names is kInvalidArgument with its location.
Result<std::vector<std::string>> SubscribersFor(const config::Config& config,
                                                const std::string& manager,
                                                const std::string& node);

// Momentum's bus group naming: a node of subcluster "east" joins "ec_sc_east". The subcluster
// of a member with these groups; "default" when it names none.
inline constexpr std::string_view kSubclusterGroupPrefix = "ec_sc_";
template <typename Groups>
std::string SubclusterOf(const Groups& groups) {
  for (const std::string& g : groups) {
    if (g.size() > kSubclusterGroupPrefix.size() && g.rfind(kSubclusterGroupPrefix, 0) == 0) {
      return g.substr(kSubclusterGroupPrefix.size());
    }
  }
  return "default";
}

}  // namespace ec::logcollect
