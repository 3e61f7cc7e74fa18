// DuravipModule: this node's part in DuraVIP (docs/duravip.md). On the cluster bus it reports
// what it configures and holds, runs the election (duravip/election.h) every tick over the
// reports of the live members, and carries out its own share: it plumbs an address it won
// (through VipPlumbing: the keeper process in production), announces it (gratuitous ARP / NA),
// and only then opens the address's listeners and lets its binding send; for an address it
// lost it closes the listeners and holds the binding first, then removes the address.
// Safety beyond the election: it holds addresses only while it has heard a strict majority of
// the bus peers within a lease shorter than the peers' dead_timeout, renews the keeper's lease
// only then (so a stalled ecmta loses its addresses too), never takes an address another live
// member still reports holding, waits if_down_limit after a holder dies, and after its own loop
// stalled (peers may have taken its addresses meanwhile) learns every peer's report afresh first.
// Owned by ClusterModule; loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/base/status.h"
#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "duravip/election.h"
#include "duravip/report.h"
#include "duravip/vip_config.h"
#include "msgc/bus.h"

namespace ec::mta::cluster {

// Whoever adds and removes addresses: the keeper (KeeperPlumbing) or a fake in tests. Calls are
// synchronous and short (a netlink round trip).
class VipPlumbing {
 public:
  virtual ~VipPlumbing() = default;
  virtual Status Add(const std::string& ip, int prefix, const std::string& interface) = 0;
  virtual Status Remove(const std::string& ip, int prefix, const std::string& interface) = 0;
  // Removes the address if present (start-up clean-up after a crash).
  virtual Status Flush(const std::string& ip, int prefix, const std::string& interface) = 0;
  virtual Status Announce(const std::string& ip, int prefix, const std::string& interface,
                          int count) = 0;
  // Renews the keeper's lease; false if it had expired meanwhile (every address is gone).
  virtual Result<bool> Renew(std::chrono::milliseconds lease) = 0;
};

// The production plumbing: spawns ec_duravip_keeper (beside our executable, or `keeper_path`)
// and drives it (mta/cluster/keeper_plumbing.cc).
Result<std::unique_ptr<VipPlumbing>> MakeKeeperPlumbing(const std::string& keeper_path = "");

struct DuravipHooks {
  // The DuraVIP addresses whose listeners may run now (held here) among all it manages;
  // called after each change.
  std::function<void(const std::set<std::string>& managed, const std::set<std::string>& held)>
      set_listen_addresses;
  // The bindings (by name) whose DuraVIP this node does not hold: their mail waits.
  std::function<void(const std::set<std::string>& bindings)> set_held_bindings;
  // After an address was taken or given up (the cluster module sends its health record at
  // once, so the manager's table follows within milliseconds, not a report interval).
  std::function<void()> on_change;
};

class DuravipModule {
 public:
  // Removes every configured address (a crash may have left them), then starts ticking.
  static Result<std::unique_ptr<DuravipModule>> Create(event::EventBase& base, msgc::Bus& bus,
                                                       std::string group,
                                                       duravip::DuravipConfig config,
                                                       std::unique_ptr<VipPlumbing> plumbing,
                                                       DuravipHooks hooks);
  // Gives every address up (listeners and bindings first).
  ~DuravipModule();
  DuravipModule(const DuravipModule&) = delete;
  DuravipModule& operator=(const DuravipModule&) = delete;

  // A new config snapshot (reload); addresses no longer configured are released next tick.
  void Apply(duravip::DuravipConfig config);
  // A message on the cluster group; returns false if it was not a DuraVIP message.
  bool OnMessage(const msgc::Message& message);
  void OnMembership(const msgc::MembershipEvent& event);
  // A REQUEST on the cluster group: answers kQueryRequest with our report now.
  void OnRequest(const msgc::Message& request);
  void RegisterCommands(control::CommandRegistry* commands);

  std::set<std::string> held() const { return held_; }
  // #mmove: each DuraVIP binding -> the one live member holding its address now (self
  // included), "" while none or several do (mta/mmove/move_decision.h OwnershipView).
  std::map<std::string, std::string> BindingHolders() const;
  uint64_t takeovers() const { return takeovers_; }

  // Console output, exposed for tests.
  std::string Show() const;

 private:
  DuravipModule(event::EventBase& base, msgc::Bus& bus, std::string group,
                duravip::DuravipConfig config, std::unique_ptr<VipPlumbing> plumbing,
                DuravipHooks hooks);
  void Tick();
  bool HaveQuorum(msgc::Clock::time_point now, size_t* seen, size_t* needed) const;
  duravip::ElectionInput Input(size_t budget) const;
  duravip::NodeReport SelfReport() const;
  // The addresses that go with `address`: itself and its followers.
  std::vector<std::string> Group(const std::string& address) const;
  Status Acquire(const std::string& address);
  void Release(const std::string& address, const char* why);
  void ReleaseAll(const char* why);
  void Publish();
  void AnnounceHeld(const char* why);
  void AnnounceOne(const std::string& address, int count, const char* why);
  void SendPendingAnnouncements(msgc::Clock::time_point now);
  // Every live member of the cluster group must send a fresh report before we acquire.
  void AwaitReportsFromAll();
  bool WaitingForReports();
  // A live peer sees alive a member we think dead: that member may hold addresses. Returns the
  // reason ("node3 sees node2"), or "".
  std::string ViewDisagreement() const;
  std::vector<std::string> Sees() const;
  void Query(const std::string& peer);
  void StoreReport(const std::string& sender, duravip::ReportMessage report);
  void UpdateHooks();
  Result<std::string> Move(const std::string& address, const std::string& node);

  msgc::Bus& bus_;
  std::string group_;
  duravip::DuravipConfig config_;
  std::unique_ptr<VipPlumbing> plumbing_;
  DuravipHooks hooks_;
  std::unique_ptr<event::Timer> timer_;

  bool participating_ = false;  // the view has been mature once since start
  // The last tick: a long gap since means our view may be stale (duravip/stall.h).
  msgc::Clock::time_point last_tick_{};
  bool had_quorum_ = false;
  std::set<std::string> held_;  // elected addresses plumbed here (followers implied)
  std::map<std::string, duravip::NodeReport> reports_;  // live peers' last reports
  std::map<std::string, uint64_t> peer_takeovers_;
  std::map<std::string, std::vector<std::string>> peer_sees_;  // from the peers' reports
  std::string disagreement_;  // last logged reason we take nothing, "" if none
  std::map<std::string, std::string> overrides_;                  // address -> node
  std::map<std::string, msgc::Clock::time_point> holder_died_;   // address -> when
  // Members that came (back) alive, or all of them after we regained quorum, whose fresh report
  // (the answer to our query) we have not had yet: until then we take nothing, since that member
  // may hold what our stale view says is free (a node rejoining after a partition). Value: a
  // query is in flight.
  std::map<std::string, bool> awaiting_report_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for bus callbacks
  // Follow-up announcements: the first goes out before the listener opens, the rest after.
  struct PendingAnnounce {
    int remaining = 0;
    msgc::Clock::time_point next{};
  };
  std::map<std::string, PendingAnnounce> pending_announce_;
  std::vector<duravip::VipDecision> last_decisions_;
  msgc::Clock::time_point next_balance_{};
  msgc::Clock::time_point last_publish_{};
  bool dirty_ = true;  // our report changed since last published
  uint64_t takeovers_ = 0;
  struct ArpRecord {
    uint64_t sent = 0;
    std::string last_why;
    std::time_t last = 0;
    std::string last_error;
  };
  std::map<std::string, ArpRecord> arp_;
};

}  // namespace ec::mta::cluster
