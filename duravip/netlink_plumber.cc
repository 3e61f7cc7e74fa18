#include "duravip/netlink_plumber.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include <array>
#include <cstring>

#include "duravip/announce.h"

namespace ec::duravip {
namespace {

struct CacheDeleter {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct RtnlAddrDeleter {
  void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, RtnlAddrDeleter>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;

// The address in binary form with its family.
struct Binary {
  int family = AF_UNSPEC;
  std::array<uint8_t, 16> bytes{};
  size_t len = 0;
};

Result<Binary> ToBinary(const VipAddress& vip) {
  Binary b;
  b.family = vip.is_v6() ? AF_INET6 : AF_INET;
  b.len = vip.is_v6() ? 16 : 4;
  if (inet_pton(b.family, vip.ip.c_str(), b.bytes.data()) != 1) {
    return InvalidArgument("bad IP address " + vip.ip);
  }
  return b;
}

// A libnl failure (negative NLE_* code) while `doing` ("adding 198.18.0.100/24 on eth1").
Status NlStatus(int err, const std::string& doing) {
  switch (-err) {
    case NLE_PERM:
    case NLE_NOACCESS:
      return Status(StatusCode::kPermissionDenied, doing + " needs CAP_NET_ADMIN");
    case NLE_NODEV:
      return NotFound(doing + ": the interface is gone");
    case NLE_NOMEM:
      return ResourceExhausted(doing + ": " + nl_geterror(err));
    default:
      return Status(StatusCode::kIoError, doing + ": " + nl_geterror(err));
  }
}

Result<RtnlAddrPtr> BuildAddr(const VipAddress& vip, int ifindex) {
  EC_ASSIGN_OR_RETURN(const Binary b, ToBinary(vip));
  NlAddrPtr local(nl_addr_build(b.family, b.bytes.data(), b.len));
  RtnlAddrPtr addr(rtnl_addr_alloc());
  if (!local || !addr) return ResourceExhausted("out of memory building a netlink address");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), b.family);
  // set_local copies the nl_addr's (zero) prefix length; the real one is set after it.
  if (int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) {
    return NlStatus(err, "building the netlink address for " + vip.ToString());
  }
  rtnl_addr_set_prefixlen(addr.get(), vip.prefix);
  if (vip.is_v6()) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  return addr;
}

std::string OnInterface(std::string_view doing, const VipAddress& vip) {
  return std::string(doing) + " " + vip.Cidr() + " on " + vip.interface;
}

}  // namespace

void NetlinkPlumber::SockDeleter::operator()(nl_sock* sock) const { nl_socket_free(sock); }

NetlinkPlumber::~NetlinkPlumber() = default;

Result<std::unique_ptr<NetlinkPlumber>> NetlinkPlumber::Create() {
  std::unique_ptr<nl_sock, SockDeleter> sock(nl_socket_alloc());
  if (!sock) return ResourceExhausted("out of memory allocating a netlink socket");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return Status(StatusCode::kIoError,
                  std::string("connecting the netlink route socket: ") + nl_geterror(err));
  }
  return std::unique_ptr<NetlinkPlumber>(new NetlinkPlumber(std::move(sock)));
}

Result<int> NetlinkPlumber::InterfaceIndex(const std::string& name) {
  // A fresh link cache each time: interfaces come and go, and these calls are rare.
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock_.get(), AF_UNSPEC, &raw); err < 0) {
    return Status(StatusCode::kIoError,
                  std::string("listing network interfaces: ") + nl_geterror(err));
  }
  CachePtr cache(raw);
  return rtnl_link_name2i(cache.get(), name.c_str());
}

Status NetlinkPlumber::Add(const VipAddress& vip) {
  const std::string doing = OnInterface("adding", vip);
  EC_ASSIGN_OR_RETURN(const int ifindex, InterfaceIndex(vip.interface));
  if (ifindex == 0) {
    return NotFound("no network interface named " + vip.interface + " (" + doing + ")");
  }
  EC_ASSIGN_OR_RETURN(RtnlAddrPtr addr, BuildAddr(vip, ifindex));
  const int err = rtnl_addr_add(sock_.get(), addr.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err == -NLE_EXIST) return Status::Ok();  // already there: that is what was asked
  if (err < 0) return NlStatus(err, doing);
  return Status::Ok();
}

Status NetlinkPlumber::Remove(const VipAddress& vip) {
  const std::string doing = OnInterface("removing", vip);
  EC_ASSIGN_OR_RETURN(const int ifindex, InterfaceIndex(vip.interface));
  if (ifindex == 0) return Status::Ok();  // no interface, no address on it
  EC_ASSIGN_OR_RETURN(RtnlAddrPtr addr, BuildAddr(vip, ifindex));
  const int err = rtnl_addr_delete(sock_.get(), addr.get(), 0);
  // EADDRNOTAVAIL (NLE_NOADDR): not there; ENODEV: the interface went away meanwhile.
  if (err == -NLE_NOADDR || err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return Status::Ok();
  if (err < 0) return NlStatus(err, doing);
  return Status::Ok();
}

Result<bool> NetlinkPlumber::Present(const VipAddress& vip) {
  EC_ASSIGN_OR_RETURN(const int ifindex, InterfaceIndex(vip.interface));
  if (ifindex == 0) return false;
  EC_ASSIGN_OR_RETURN(const Binary want, ToBinary(vip));
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock_.get(), &raw); err < 0) {
    return Status(StatusCode::kIoError, std::string("listing addresses: ") + nl_geterror(err));
  }
  CachePtr cache(raw);
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    if (rtnl_addr_get_ifindex(addr) != ifindex || rtnl_addr_get_family(addr) != want.family ||
        rtnl_addr_get_prefixlen(addr) != vip.prefix) {
      continue;
    }
    nl_addr* local = rtnl_addr_get_local(addr);
    if (local != nullptr && nl_addr_get_len(local) == want.len &&
        std::memcmp(nl_addr_get_binary_addr(local), want.bytes.data(), want.len) == 0) {
      return true;
    }
  }
  return false;
}

Status NetlinkPlumber::Announce(const VipAddress& vip, int count) {
  return SendAnnouncements(vip, count).status();
}

}  // namespace ec::duravip
