// SharedReplication: the bus side of the cluster-wide limits (docs/cluster-limits.md, "How a
// limit is shared"). It reports SharedLimits' figures on the cluster group (on change, at most
// every Replicate max_delay of the key's type; in full every refresh interval and to a member
// that joins the group), keeps every member's latest figures (replication::SharedTable), follows
// the leader (replication::LeaderOf over the members that run limits), and, as the leader, shares
// each limit (replication::Allocate) and shouts the grants. It applies to SharedLimits only the
// grants of the leader it follows. Without a bus (a single node) it is its own leader and grants
// itself directly. Owned by MtaDaemon beside SharedLimits; the ClusterModule hands it the bus
// and its cluster-group messages. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/sliding_window.h"
#include "common/base/status.h"
#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "msgc/bus.h"
#include "mta/cluster/limit_members.h"
#include "mta/cluster/shared_limits.h"
#include "mta/cluster/shared_limits_config.h"
#include "replication/share_allocator.h"
#include "replication/shared_table.h"

namespace ec::mta::cluster {

struct SharedReplicationOptions {
  std::string self;  // our name until a bus is attached (then the bus's)
  // True: no bus will come (no msgc peers): we lead ourselves. False: no leader until the bus
  // is attached and sees a quorum.
  bool standalone = true;
  std::vector<ReplicateSpec> specs;
  std::chrono::milliseconds refresh_interval{5000};
};

class SharedReplication {
 public:
  SharedReplication(event::EventBase& base, SharedLimits& limits, SharedReplicationOptions options);
  ~SharedReplication();
  SharedReplication(const SharedReplication&) = delete;
  SharedReplication& operator=(const SharedReplication&) = delete;

  // The bus to report on (its `group`: the cluster group); `control_peers` (the manager role)
  // hold no limits. Detach before the bus goes.
  void AttachBus(msgc::Bus* bus, std::string group, std::set<std::string> control_peers);
  void DetachBus();
  void SetControlPeers(std::set<std::string> control_peers);
  // A reloaded configuration's Replicate scopes.
  void SetSpecs(std::vector<ReplicateSpec> specs);

  // A message on the cluster group; false if it is not a shared-limits message.
  bool OnMessage(const msgc::Message& message);
  void OnMembership(const msgc::MembershipEvent& event);

  // Console commands (shared_commands.cc): cluster shared list | show | stats.
  void RegisterCommands(control::CommandRegistry* commands);
  std::string List() const;
  Result<std::string> Show(const std::vector<std::string>& args) const;
  std::string Stats();

  const replication::SharedTable& table() const { return table_; }
  const std::optional<std::string>& leader() const { return limits_.leader(); }
  const std::string& self() const { return self_; }

 private:
  static constexpr size_t kLagSamples = 1000;
  struct Counter {
    uint64_t total = 0;
    SlidingWindow recent{10'000'000};  // the last 10 s, for the rate
  };
  void ScheduleFlush(std::chrono::milliseconds delay);
  // Takes our changed figures into the table, allocates as leader, sends what is due.
  void Flush();
  void Refresh();
  void UpdateLeader();
  void Allocate(const std::set<std::string>& keys);
  void AllocateAll();
  void SendGrants(std::vector<replication::GrantEntry> grants);
  void SendReport(const std::vector<std::string>& keys, bool full, const std::string* to);
  replication::ReportMessage OwnReport(const std::vector<std::string>& keys, bool full);
  void ApplyOwn(const std::vector<std::string>& keys, bool full);
  // The Replicate scope of a key's type, and its settings (defaults without one).
  const ReplicateSpec* SpecFor(std::string_view type) const;
  std::chrono::milliseconds MaxDelay(std::string_view type) const;
  uint64_t MaxPending(std::string_view type) const;
  void Count(Counter& c);
  double Rate(Counter& c);
  void Lag(uint64_t now_ms, uint64_t sent_ms);
  static uint64_t WallMs();
  static int64_t SteadyUs();

  event::EventBase& base_;
  SharedLimits& limits_;
  SharedReplicationOptions options_;
  std::string self_;
  msgc::Bus* bus_ = nullptr;
  std::string group_;
  std::set<std::string> control_peers_;
  std::set<std::string> bystanders_;
  std::vector<std::string> members_;  // as last given to LeaderOf
  std::set<std::string> alive_;
  replication::SharedTable table_;
  std::map<std::string, replication::AllocatorState> allocators_;  // by key, as the leader
  std::set<std::string> touched_;   // keys to allocate at the next flush
  bool allocate_all_ = false;       // every key at the next flush (a full report, a view change)
  std::set<std::string> pending_;   // our keys changed, not yet reported
  std::map<std::string, int64_t> next_send_us_;  // by type: the earliest a change goes out
  std::set<std::string> whisper_to_;  // members that joined: our snapshot once their link is up
  std::unique_ptr<event::Timer> flush_timer_;
  int64_t flush_at_us_ = 0;  // when flush_timer_ fires, 0: not armed
  std::unique_ptr<event::Timer> refresh_timer_;
  // Stats for the console.
  Counter reports_sent_, reports_received_, grants_sent_, grants_received_;
  uint64_t grant_entries_sent_ = 0;
  std::deque<uint64_t> lag_ms_;  // the last kLagSamples replication lags (ms)
};

}  // namespace ec::mta::cluster
