// IPv4/IPv6 addresses and CIDR blocks for Peer scopes and CIDR-list options. Value type; any
// thread.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "common/base/status.h"

namespace ec::config {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // v4 uses the first 4 bytes
  int prefix = 0;

  // "10.0.0.0/8", "192.0.2.1" (= /32), "2001:db8::/32", "::1". Host bits need not be zero.
  static Result<Cidr> Parse(std::string_view text);
  bool Contains(const Cidr& address) const;  // `address` taken as a single host
};

}  // namespace ec::config
