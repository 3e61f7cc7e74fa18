// KeeperPlumbing: VipPlumbing over the keeper process (duravip/keeper_client.h). ecmta never
// touches netlink itself: the keeper, started before privileges are dropped, does, and removes
// every address it added when ecmta's end of the socket closes or its lease runs out.
#include <fstream>
#include <sstream>

#include "duravip/keeper_client.h"
#include "duravip/vip_address.h"
#include "mta/cluster/duravip_module.h"

namespace ec::mta::cluster {
namespace {

class KeeperPlumbing : public VipPlumbing {
 public:
  explicit KeeperPlumbing(std::unique_ptr<duravip::KeeperClient> keeper)
      : keeper_(std::move(keeper)) {}

  Status Add(const std::string& ip, int prefix, const std::string& interface) override {
    EC_ASSIGN_OR_RETURN(auto vip, Vip(ip, prefix, interface));
    return keeper_->Add(vip);
  }
  Status Remove(const std::string& ip, int prefix, const std::string& interface) override {
    EC_ASSIGN_OR_RETURN(auto vip, Vip(ip, prefix, interface));
    return keeper_->Remove(vip);
  }
  Status Flush(const std::string& ip, int prefix, const std::string& interface) override {
    EC_ASSIGN_OR_RETURN(auto vip, Vip(ip, prefix, interface));
    auto r = keeper_->Flush(vip);
    return r.ok() ? Status::Ok() : r.status();
  }
  Status Announce(const std::string& ip, int prefix, const std::string& interface,
                  int count) override {
    EC_ASSIGN_OR_RETURN(auto vip, Vip(ip, prefix, interface));
    return keeper_->Announce(vip, count);
  }
  Result<bool> Renew(std::chrono::milliseconds lease) override { return keeper_->Renew(lease); }

 private:
  static Result<duravip::VipAddress> Vip(const std::string& ip, int prefix,
                                         const std::string& interface) {
    return duravip::VipAddress::Parse(ip + "/" + std::to_string(prefix), interface);
  }
  std::unique_ptr<duravip::KeeperClient> keeper_;
};

// The keeper inherits our capabilities; without these it could neither add addresses nor
// announce them, and would only find out at the first takeover. Say so at start instead.
Status CheckCapabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) != 0) continue;
    uint64_t caps = 0;
    std::istringstream(line.substr(7)) >> std::hex >> caps;
    constexpr uint64_t kNetAdmin = 1ull << 12, kNetRaw = 1ull << 13;
    std::string missing;
    if (!(caps & kNetAdmin)) missing = "CAP_NET_ADMIN";
    if (!(caps & kNetRaw)) missing += missing.empty() ? "CAP_NET_RAW" : " and CAP_NET_RAW";
    if (missing.empty()) return Status::Ok();
    return Status(StatusCode::kPermissionDenied,
                  "DuraVIP needs " + missing +
                      " (the keeper adds addresses and sends gratuitous ARP); run ecmta as root "
                      "or grant them, or remove Enable_Duravip");
  }
  return Status::Ok();  // no /proc: let the keeper's own errors speak
}

}  // namespace

Result<std::unique_ptr<VipPlumbing>> MakeKeeperPlumbing(const std::string& keeper_path) {
  EC_RETURN_IF_ERROR(CheckCapabilities());
  EC_ASSIGN_OR_RETURN(auto keeper, duravip::KeeperClient::Spawn(keeper_path));
  return std::unique_ptr<VipPlumbing>(new KeeperPlumbing(std::move(keeper)));
}

}  // namespace ec::mta::cluster
