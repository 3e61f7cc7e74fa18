#include "duravip/announce.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/daemon/unique_fd.h"

namespace ec::duravip {
namespace {

using daemon::UniqueFd;

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v & 0xff));
}

template <size_t N>
void PutBytes(std::vector<uint8_t>* out, const std::array<uint8_t, N>& bytes) {
  out->insert(out->end(), bytes.begin(), bytes.end());
}

struct LinkInfo {
  int ifindex = 0;
  unsigned flags = 0;
  unsigned short hw_type = 0;
  MacAddress mac{};
};

Result<LinkInfo> GetLinkInfo(const std::string& name) {
  LinkInfo info;
  info.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  if (info.ifindex == 0) return NotFound("no network interface named " + name);
  // Any socket serves the SIOCGIF* ioctls; a UDP one needs no privilege.
  UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket for interface ioctls", errno);
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof(ifr.ifr_name) - 1));
  if (ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return ErrnoStatus("reading the flags of interface " + name, errno);
  }
  info.flags = static_cast<unsigned short>(ifr.ifr_flags);
  if (ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return ErrnoStatus("reading the hardware address of interface " + name, errno);
  }
  info.hw_type = ifr.ifr_hwaddr.sa_family;
  std::memcpy(info.mac.data(), ifr.ifr_hwaddr.sa_data, info.mac.size());
  return info;
}

Status SocketError(const VipAddress& vip, std::string_view what, int err) {
  if (err == EPERM || err == EACCES) {
    return Status(StatusCode::kPermissionDenied, std::string(what) + " for " + vip.ip + " on " +
                                                     vip.interface + " needs CAP_NET_RAW");
  }
  return ErrnoStatus(std::string(what) + " for " + vip.ip + " on " + vip.interface, err);
}

Result<UniqueFd> OpenArpSocket(const VipAddress& vip) {
  // Protocol 0: this socket only sends, so nothing is queued for it to receive.
  UniqueFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return SocketError(vip, "sending gratuitous ARP", errno);
  return fd;
}

Status SendArp(const VipAddress& vip, const LinkInfo& link, int fd,
               const std::vector<uint8_t>& frame) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = link.ifindex;
  to.sll_halen = ETH_ALEN;
  std::memset(to.sll_addr, 0xff, ETH_ALEN);
  if (sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
    return SocketError(vip, "sending gratuitous ARP", errno);
  }
  return Status::Ok();
}

Result<UniqueFd> OpenNdSocket(const VipAddress& vip, const LinkInfo& link) {
  UniqueFd fd(socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  if (!fd.valid()) return SocketError(vip, "sending a neighbour advertisement", errno);
  // Receivers drop neighbour discovery that did not arrive with hop limit 255 (RFC 4861 §7.1.2).
  const int hops = 255;
  const int no_loop = 0;
  const int ifindex = link.ifindex;
  icmp6_filter block_all;
  ICMP6_FILTER_SETBLOCKALL(&block_all);  // send-only
  if (setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) != 0 ||
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) != 0 ||
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) != 0 ||
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &no_loop, sizeof(no_loop)) != 0 ||
      setsockopt(fd.get(), IPPROTO_ICMPV6, ICMP6_FILTER, &block_all, sizeof(block_all)) != 0) {
    return SocketError(vip, "setting up the neighbour advertisement socket", errno);
  }
  return fd;
}

Status SendNa(const VipAddress& vip, const LinkInfo& link, int fd,
              const std::vector<uint8_t>& message) {
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  to.sin6_scope_id = static_cast<uint32_t>(link.ifindex);
  if (sendto(fd, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) <
      0) {
    return SocketError(vip, "sending a neighbour advertisement", errno);
  }
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> BuildGratuitousArp(const MacAddress& mac, const Ipv4Bytes& ip) {
  std::vector<uint8_t> frame;
  frame.reserve(kGratuitousArpSize);
  PutBytes(&frame, MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});  // Ethernet destination
  PutBytes(&frame, mac);                                             // Ethernet source
  Put16(&frame, ETH_P_ARP);
  Put16(&frame, ARPHRD_ETHER);  // hardware type
  Put16(&frame, ETH_P_IP);      // protocol type
  frame.push_back(ETH_ALEN);    // hardware address length
  frame.push_back(4);           // protocol address length
  Put16(&frame, ARPOP_REQUEST);
  PutBytes(&frame, mac);           // sender hardware address
  PutBytes(&frame, ip);            // sender protocol address
  PutBytes(&frame, MacAddress{});  // target hardware address: ignored, zero (RFC 5227 §2.3)
  PutBytes(&frame, ip);            // target protocol address
  return frame;
}

std::vector<uint8_t> BuildUnsolicitedNa(const MacAddress& mac, const Ipv6Bytes& target) {
  std::vector<uint8_t> message;
  message.reserve(kUnsolicitedNaSize);
  message.push_back(ND_NEIGHBOR_ADVERT);  // type 136
  message.push_back(0);                   // code
  Put16(&message, 0);                     // checksum: the kernel's
  // Flags: Override only. Not Solicited (nobody asked), not Router (we are a host).
  message.push_back(0x20);
  message.insert(message.end(), 3, 0);  // rest of flags + reserved
  PutBytes(&message, target);
  message.push_back(ND_OPT_TARGET_LINKADDR);  // option type 2
  message.push_back(1);                       // length in units of 8 bytes
  PutBytes(&message, mac);
  return message;
}

Result<int> SendAnnouncements(const VipAddress& vip, int count, std::chrono::milliseconds gap) {
  if (count < 1) return InvalidArgument("announcement count must be at least 1");
  EC_ASSIGN_OR_RETURN(const LinkInfo link, GetLinkInfo(vip.interface));
  if (link.hw_type != ARPHRD_ETHER || (link.flags & (IFF_NOARP | IFF_LOOPBACK)) != 0) return 0;
  if ((link.flags & IFF_UP) == 0) {
    return FailedPrecondition("cannot announce " + vip.ip + ": interface " + vip.interface +
                              " is down");
  }

  UniqueFd fd;
  std::vector<uint8_t> packet;
  if (vip.is_v6()) {
    Ipv6Bytes target{};
    if (inet_pton(AF_INET6, vip.ip.c_str(), target.data()) != 1) {
      return InvalidArgument("bad IPv6 address " + vip.ip);
    }
    packet = BuildUnsolicitedNa(link.mac, target);
    EC_ASSIGN_OR_RETURN(fd, OpenNdSocket(vip, link));
  } else {
    Ipv4Bytes ip{};
    if (inet_pton(AF_INET, vip.ip.c_str(), ip.data()) != 1) {
      return InvalidArgument("bad IPv4 address " + vip.ip);
    }
    packet = BuildGratuitousArp(link.mac, ip);
    EC_ASSIGN_OR_RETURN(fd, OpenArpSocket(vip));
  }

  for (int i = 0; i < count; ++i) {
    if (i > 0 && gap.count() > 0) std::this_thread::sleep_for(gap);  // pacing, as keepalived
    EC_RETURN_IF_ERROR(vip.is_v6() ? SendNa(vip, link, fd.get(), packet)
                                   : SendArp(vip, link, fd.get(), packet));
  }
  return count;
}

}  // namespace ec::duravip
