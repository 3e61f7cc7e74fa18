// Capability sets for Security { capabilities }: parsing the option's text into capability
// numbers, naming them back, and reading what a process holds. A value type; any thread. The
// privilege drop (privileges.h) applies a CapabilityList; libcap stays inside the .cc files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::daemon {

// Capability numbers (CAP_NET_ADMIN = 12 ...), sorted, without duplicates.
using CapabilityList = std::vector<int>;

// Accepts cap_from_text-style text: names separated by spaces or commas, each optionally
// followed by "+ep", "=ep" (or any of e, p, i): "cap_net_admin+ep cap_net_raw+ep",
// "cap_net_admin,cap_net_raw=ep", "CAP_NET_BIND_SERVICE". Every listed capability is kept
// permitted and effective; none is inheritable. Empty text: none. An unknown name, "all",
// a removal ("-") or a bad flag is kInvalidArgument naming the word.
Result<CapabilityList> ParseCapabilities(std::string_view text);

// "cap_net_admin,cap_net_raw" (libcap's names); "none" for an empty list.
std::string CapabilityNames(const CapabilityList& caps);

// The bit mask /proc/<pid>/status shows for `caps` (CapEff: ...).
uint64_t CapabilityMask(const CapabilityList& caps);

}  // namespace ec::daemon
