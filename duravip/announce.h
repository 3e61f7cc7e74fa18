// Telling the link that a virtual IP address has moved here: gratuitous ARP for IPv4 (an ARP
// request with sender IP = target IP = the address, from the interface's MAC to the broadcast
// MAC, RFC 5227's ARP announcement, as keepalived sends it) and an unsolicited neighbour
// advertisement for IPv6 (RFC 4861 §7.2.6: to ff02::1, override flag, target link-layer address
// option, hop limit 255). The packet builders are pure functions; SendAnnouncements does the
// I/O (AF_PACKET and ICMPv6 raw sockets: CAP_NET_RAW). Any thread; no state.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "duravip/vip_address.h"

namespace ec::duravip {

using MacAddress = std::array<uint8_t, 6>;
using Ipv4Bytes = std::array<uint8_t, 4>;
using Ipv6Bytes = std::array<uint8_t, 16>;

inline constexpr size_t kGratuitousArpSize = 42;  // 14 Ethernet + 28 ARP; the NIC pads to 60
inline constexpr size_t kUnsolicitedNaSize = 32;  // 24 NA + 8 target link-layer option

// The whole Ethernet frame: dst ff:ff:ff:ff:ff:ff, src `mac`, type ARP; an ARP request with
// sender = target = `ip`, sender MAC `mac`, target MAC zero.
std::vector<uint8_t> BuildGratuitousArp(const MacAddress& mac, const Ipv4Bytes& ip);
// The ICMPv6 message (type 136) with the checksum left zero: the kernel computes it on an
// ICMPv6 raw socket, over the source address it picks.
std::vector<uint8_t> BuildUnsolicitedNa(const MacAddress& mac, const Ipv6Bytes& target);

// Sends `count` (>= 1) announcements for `vip` on its interface, `gap` apart. Returns how many
// went out: 0 on a link without neighbour discovery (loopback, NOARP, not Ethernet), where
// there is nobody to tell. kNotFound for an unknown interface, kPermissionDenied (naming
// CAP_NET_RAW) without the capability, kFailedPrecondition when the interface is down.
Result<int> SendAnnouncements(const VipAddress& vip, int count,
                              std::chrono::milliseconds gap = std::chrono::milliseconds(20));

}  // namespace ec::duravip
