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
#include "msgc/subcluster.h"

namespace ec::logcollect {

// Candidates in order of preference; empty: this manager does not pull `node`. A `subscriber`
// that is not a list of names is kInvalidArgument with its location.
Result<std::vector<std::string>> SubscribersFor(const config::Config& config,
                                                const std::string& manager,
                                                const std::string& node);

// Momentum's bus group naming: a node of subcluster "east" joins "ec_sc_east" (ecmta does, from
// its cluster.boot); the manager files that node's lines under %{s} = SubclusterOf(its groups).
using msgc::kSubclusterGroupPrefix;
using msgc::SubclusterOf;

}  // namespace ec::logcollect
