// The one rule for node names, used wherever a name enters the cluster: the bus (a peer in
// msgc_server's peers, a frame's sender) and enrolment (`ecconfigd enroll <node>`, /clone/<node>,
// /enrol/<node>), so a node that can enrol can always join the bus and the other way round.
// A name is 1..64 of [a-z0-9_.-] with a letter or digit first: lower case as Momentum's msgc
// requires, and safe as a file name (global/msgc_keys/<node>.pub, etc/conf/<node>/, the
// aggregated logs' %{n}): never ".", "..", hidden, or an option ("-x"). Pure; any thread.
#pragma once

#include <cstddef>
#include <string_view>

#include "common/base/status.h"

namespace ec::msgc {

inline constexpr size_t kMaxNodeNameLength = 64;
// For error messages.
inline constexpr std::string_view kNodeNameRule =
    "1..64 of [a-z0-9_.-], starting with a letter or digit";

bool IsValidNodeName(std::string_view name);
// InvalidArgument "bad node name '<name>' (<rule>)" unless IsValidNodeName.
Status CheckNodeName(std::string_view name);

}  // namespace ec::msgc
