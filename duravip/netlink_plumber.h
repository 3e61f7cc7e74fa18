// NetlinkPlumber: the real Plumber. Adds and removes addresses with libnl-route-3 (RTM_NEWADDR /
// RTM_DELADDR over one NETLINK_ROUTE socket, as keepalived and NetworkManager do) and announces
// them with announce.h. Changing addresses needs CAP_NET_ADMIN, announcing CAP_NET_RAW; without
// them the calls fail with kPermissionDenied naming the capability.
// Lives inside ec_duravip_keeper; owns its netlink socket; one thread.
#pragma once

#include <memory>

#include "duravip/plumber.h"

struct nl_sock;

namespace ec::duravip {

class NetlinkPlumber : public Plumber {
 public:
  // Connects the netlink socket (no privilege needed for that).
  static Result<std::unique_ptr<NetlinkPlumber>> Create();
  ~NetlinkPlumber() override;
  NetlinkPlumber(const NetlinkPlumber&) = delete;
  NetlinkPlumber& operator=(const NetlinkPlumber&) = delete;

  // IPv6 addresses are added with IFA_F_NODAD so they are usable at once: the election, not
  // duplicate address detection, decides who holds a VIP.
  Status Add(const VipAddress& vip) override;
  Status Remove(const VipAddress& vip) override;
  Result<bool> Present(const VipAddress& vip) override;
  Status Announce(const VipAddress& vip, int count) override;

 private:
  struct SockDeleter {
    void operator()(nl_sock* sock) const;
  };
  explicit NetlinkPlumber(std::unique_ptr<nl_sock, SockDeleter> sock) : sock_(std::move(sock)) {}

  // The interface's index; 0 when there is no such interface.
  Result<int> InterfaceIndex(const std::string& name);

  std::unique_ptr<nl_sock, SockDeleter> sock_;
};

}  // namespace ec::duravip
