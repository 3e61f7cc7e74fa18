// Shared by DuraVIP's tests (they link into one binary).
#pragma once

#include "duravip/vip_address.h"

namespace ec::duravip {

// A VipAddress from text the test knows to be valid.
inline VipAddress Vip(const char* cidr, const char* dev) { return *VipAddress::Parse(cidr, dev); }

}  // namespace ec::duravip
