// Plumber: puts virtual IP addresses on network interfaces and tells the link about them. The
// real one is NetlinkPlumber (netlink_plumber.h, used inside ec_duravip_keeper); FakePlumber
// keeps addresses in memory and records every call, for tests of the code above it.
// A Plumber is used from one thread at a time; FakePlumber also locks, so a test thread may read
// it while a Keeper thread drives it.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "duravip/vip_address.h"

namespace ec::duravip {

class Plumber {
 public:
  virtual ~Plumber() = default;

  // Adds the address; an address that is already there is success.
  virtual Status Add(const VipAddress& vip) = 0;
  // Removes the address; an absent address (or interface) is success.
  virtual Status Remove(const VipAddress& vip) = 0;
  // Whether exactly this address/prefix is on the interface now.
  virtual Result<bool> Present(const VipAddress& vip) = 0;
  // Tells the link the address is here now: `count` gratuitous ARPs (IPv4) or unsolicited
  // neighbour advertisements (IPv6).
  virtual Status Announce(const VipAddress& vip, int count) = 0;
};

class FakePlumber : public Plumber {
 public:
  Status Add(const VipAddress& vip) override;
  Status Remove(const VipAddress& vip) override;
  Result<bool> Present(const VipAddress& vip) override;
  Status Announce(const VipAddress& vip, int count) override;

  // The next call of `op` ("add", "remove", "present", "announce") fails with `status`.
  void FailNext(const std::string& op, Status status);
  // When not empty, any other interface is NotFound for Add and Announce.
  void SetInterfaces(std::set<std::string> names);
  // Puts an address in place as if someone else had added it (no call recorded).
  void Preload(const VipAddress& vip);

  std::set<VipAddress> addresses() const;
  // Every call in order: "add 198.18.0.100/24 dev eth1", "announce ... x3".
  std::vector<std::string> calls() const;
  size_t announced() const;  // sum of the counts of successful announces

 private:
  Status Fail(const std::string& op);  // the injected failure for `op`, consumed; or Ok

  mutable std::mutex mu_;
  std::set<VipAddress> addresses_;
  std::vector<std::string> calls_;
  std::map<std::string, Status> fail_next_;
  std::set<std::string> interfaces_;
  size_t announced_ = 0;
};

}  // namespace ec::duravip
