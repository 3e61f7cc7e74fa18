// IP address ranges for relay_hosts, Prohibited_Hosts and Peer ACLs: Cidr (one range, IPv4 or
// IPv6) and CidrSet (a list with membership and most-specific-match lookup). IPv4-mapped IPv6
// client addresses (::ffff:a.b.c.d) match IPv4 ranges. Parsing is pure (inet_pton only).
// Immutable after construction; safe to share between threads for reading.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::net {

// An IPv4 or IPv6 address in 16 bytes (IPv4 stored as IPv4-mapped IPv6).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool is_v4 = false;

  // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (becomes IPv4), "[2001:db8::1]".
  static std::optional<IpAddress> Parse(std::string_view text);
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

class Cidr {
 public:
  // "10.0.0.0/8", "192.0.2.7" (/32), "2001:db8::/32", "::1" (/128). Host bits must be zero
  // unless there is no prefix length.
  static Result<Cidr> Parse(std::string_view text);

  bool Contains(const IpAddress& ip) const;
  // Prefix length in the address's own family (0..32 for IPv4, 0..128 for IPv6).
  int prefix_length() const { return is_v4_ ? prefix_ - 96 : prefix_; }
  std::string ToString() const;

 private:
  IpAddress network_;
  int prefix_ = 0;  // over the 128-bit mapped form
  bool is_v4_ = false;
};

class CidrSet {
 public:
  CidrSet() = default;
  // Parses every entry; the first bad one fails the whole list with its text in the message.
  static Result<CidrSet> Parse(const std::vector<std::string>& entries);

  void Add(Cidr cidr) { ranges_.push_back(cidr); }
  bool empty() const { return ranges_.empty(); }
  size_t size() const { return ranges_.size(); }
  bool Contains(const IpAddress& ip) const { return MostSpecific(ip).has_value(); }
  // Convenience for the listener: an unparsable address is in no set.
  bool Contains(std::string_view ip) const;
  // Index (in insertion order) of the longest prefix containing `ip`: the Peer ACL rule
  // "the most specific CIDR wins". Ties go to the first added.
  std::optional<size_t> MostSpecific(const IpAddress& ip) const;
  const Cidr& at(size_t i) const { return ranges_[i]; }

 private:
  std::vector<Cidr> ranges_;
};

}  // namespace ec::net
