// VipAddress: one virtual IP address as DuraVIP plumbs it, an IPv4 or IPv6 address with its
// prefix length on a named network interface ("198.18.0.100/24 dev eth1"). Parse() checks the
// text and puts the address in canonical form (inet_ntop), so two spellings of one address
// compare equal and ToString() is stable for logs and the keeper protocol.
// Value type; pure; any thread.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::duravip {

inline constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

struct VipAddress {
  std::string ip;  // canonical text: "198.18.0.100", "2001:db8::1"
  int prefix = 0;  // 1..32 for IPv4, 1..128 for IPv6
  std::string interface;

  bool is_v6() const { return ip.find(':') != std::string::npos; }
  // "198.18.0.100/24": the address with its prefix, as the keeper protocol writes it.
  std::string Cidr() const { return ip + "/" + std::to_string(prefix); }
  // "198.18.0.100/24 dev eth1".
  std::string ToString() const { return Cidr() + " dev " + interface; }

  // `cidr` is "<ip>/<prefix>" (the prefix is required), `interface` a Linux interface name.
  // Rejects what cannot be a service address: unspecified, multicast, the IPv4 broadcast
  // address, IPv4-mapped and link-local IPv6 (which would need a scope).
  static Result<VipAddress> Parse(std::string_view cidr, std::string_view interface);
  // The ToString() form: "<ip>/<prefix> dev <interface>".
  static Result<VipAddress> ParseText(std::string_view text);

  auto operator<=>(const VipAddress&) const = default;
};

// A name the kernel would accept for a network interface: 1..15 bytes, not "." or "..", no
// '/', ':' or whitespace, printable ASCII.
Status ValidateInterfaceName(std::string_view name);

// Possibly hostile text for an error message: quoted, cut to `max_chars`, with anything not
// printable ASCII (and '"') shown as '?'.
std::string QuoteForError(std::string_view text, size_t max_chars = 64);

}  // namespace ec::duravip
