// SharedLimits: this node's side of the cluster-wide limits (docs/cluster-limits.md), the
// scheduler's OutboundLimits. Per limited object (a key such as "outbound_domains/example.com",
// from the cluster_* options through LimitResolver) it keeps the units this node holds (open
// connections, or a sliding log of sends for a throttle), the backlog of the queues counted on
// it (its demand), and the grant it holds from the leader it follows. A unit starts only while
// usage < grant for every rule that applies, so this node never holds more than its grant.
// SharedReplication carries the figures to the leader and the leader's grants back.
// It is also the inbound sessions' InboundThrottles: each Shared_Throttle is an object
// "shared_named_throttles/<name>" (named_throttles.h) whose units are transactions.
// Loop thread only. Leases may outlive it (they then release nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/sliding_window.h"
#include "common/config/tree.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/cluster/shared_limits_config.h"
#include "mta/outbound/outbound_limits.h"
#include "mta/server/inbound_throttles.h"
#include "replication/shared_message.h"

namespace ec::mta::cluster {

struct SharedLimitsOptions {
  // Monotonic microseconds; default steady_clock (tests pass a fake).
  std::function<int64_t()> now_us;
  // Runs on_capacity (posted, never inside an Acquire or a lease's destructor) and the timer
  // that ages throttle units out. Null: on_capacity runs inline and the owner calls Tick().
  event::EventBase* base = nullptr;
};

class SharedLimits : public outbound::OutboundLimits, public InboundThrottles {
 public:
  SharedLimits(std::shared_ptr<const config::Config> config, SharedLimitsOptions options = {});
  ~SharedLimits() override;
  SharedLimits(const SharedLimits&) = delete;
  SharedLimits& operator=(const SharedLimits&) = delete;

  // A reloaded configuration: the rules are resolved again; objects keep units and grants.
  void Apply(std::shared_ptr<const config::Config> config);

  // OutboundLimits.
  std::unique_ptr<outbound::LimitLease> AcquireConnection(const outbound::LimitScope& scope) override;
  std::unique_ptr<outbound::LimitLease> AcquireHost(const outbound::LimitScope& scope) override;
  std::unique_ptr<outbound::LimitLease> AcquireMessage(const outbound::LimitScope& scope) override;
  void SetBacklog(const outbound::LimitScope& scope, size_t backlog) override;
  bool OverShare(const outbound::LimitScope& scope) override;
  void SetOnCapacity(std::function<void()> on_capacity) override;

  // InboundThrottles. A refusal cannot tell how much more mail waits (clients retry at their
  // own pace), so a refusing node asks for the whole limit and the leader splits it evenly among
  // the nodes refusing; otherwise it asks for one unit past its usage, so the next transaction
  // finds a unit already granted. A node that is its whole cluster (one member, leading
  // itself: no msgc peers) needs no grant: it admits up to the limit.
  bool TakeTransaction(std::string_view name) override;

  // --- SharedReplication's side.
  // The leader whose grants we apply (nullopt: none, no quorum) among `members` configured
  // members. Without a leader every grant falls to at most the static share floor(L/members).
  void SetLeader(std::optional<std::string> leader, size_t members);
  const std::optional<std::string>& leader() const { return leader_; }
  // A grant for this node from `from`: applied only if `from` is the leader we follow and, when
  // our grant for the key came from it too, `seq` is newer. Unknown keys are ignored.
  bool ApplyGrant(const std::string& key, uint64_t units, const std::string& from, uint64_t seq);
  // Our figures: acked_seq is the seq applied from the leader we follow now (0: none yet).
  std::vector<replication::ObjectFigures> Figures();
  std::optional<replication::ObjectFigures> FiguresOf(const std::string& key);
  // Keys whose figures differ from what the last call returned for them: of the objects touched
  // since, or of all (`all`: figures that moved with time alone, a demand that lapsed). Objects
  // returned all at zero and idle since are dropped here: a full report without them says the
  // same.
  std::vector<std::string> TakeChanged(bool all = false);
  // Runs (inline) after any figure may have changed; the replication schedules a report.
  void SetOnChange(std::function<void()> on_change) { on_change_ = std::move(on_change); }
  // Ages throttle units out now: figures change, waiting queues may go on. The timer calls it.
  void Tick();
  size_t object_count() const { return objects_.size(); }

 private:
  class Lease;
  struct Object {
    uint64_t limit = 0;
    uint64_t window_ms = 0;          // 0: connections
    bool inbound = false;            // a configured Shared_Throttle (TakeTransaction's)
    uint64_t connections = 0;        // window_ms == 0
    std::unique_ptr<SlidingWindow> sends;  // window_ms > 0
    // Message units taken whose transaction has not ended: they count as usage, and enter
    // `sends` (for one window) when their lease is released.
    uint64_t sends_in_flight = 0;
    uint64_t backlog = 0;            // of the queues counted on it
    int64_t wanted_until_us = 0;     // an acquire was refused: demand at least usage + 1 till then
    uint64_t held = 0;
    std::string grant_from;          // the leader the grant came from ("" none)
    uint64_t grant_seq = 0;
    bool waiting = false;            // an acquire was refused since capacity last grew
    std::optional<replication::ObjectFigures> reported;  // as TakeChanged last returned them
  };
  struct Queue {
    outbound::LimitScope scope;  // host cleared
    size_t backlog = 0;
    std::set<std::string> keys;       // the objects its rules count it on
    std::set<std::string> host_keys;  // Host-scope objects of addresses it tried
  };

  Object& ObjectFor(const LimitRule& rule);
  uint64_t Usage(Object& o, int64_t now);
  // The units this node may hold: its grant, and never past the limit it has configured.
  uint64_t Allowed(const Object& o) const;
  // The Shared_Throttle objects of the config: created (so they ask for their first unit before
  // any transaction), and marked or unmarked inbound.
  void SyncNamedThrottles();
  // The objects of `rules` if every one admits one more unit now; else {nullptr}, and the
  // refusing ones are marked waiting (on_capacity runs when they can take one).
  std::vector<Object*> Admit(const std::vector<LimitRule>& rules, int64_t now);
  // `message`: throttle units are held by the lease until the send ends (AcquireMessage);
  // otherwise they enter the window at once (a connection throttle counts the opening).
  std::unique_ptr<outbound::LimitLease> Take(std::vector<LimitRule> rules, bool message = false);
  void Release(const std::vector<std::string>& keys);
  // The objects a queue's backlog counts on (its connection and message rules).
  std::set<std::string> RuleKeys(const outbound::LimitScope& scope);
  // Adds (sign > 0) or removes the queue's backlog on its objects.
  void AddBacklog(const Queue& q, int sign);
  void SetQueueKeys(Queue& q, std::set<std::string> keys);
  static std::string QueueId(const outbound::LimitScope& scope);
  replication::ObjectFigures MakeFigures(const std::string& key, Object& o, int64_t now);
  // Logs the change (rate-limited) and, when it grew, lets waiting queues go on.
  void SetHeld(const std::string& key, Object& o, uint64_t units);
  void CapacityMayHaveGrown(Object& o);
  void Changed();
  // Arms the aging timer for the earliest throttle expiry (ArmAgingTimerAt: for `at_us`).
  void ArmAgingTimer();
  void ArmAgingTimerAt(int64_t at_us);
  bool Idle(Object& o, int64_t now);
  int64_t Now() const { return now_us_(); }

  std::function<int64_t()> now_us_;
  event::EventBase* base_;
  std::unique_ptr<LimitResolver> resolver_;
  std::map<std::string, LimitRule> named_;  // Shared_Throttle rules by lower-cased name
  std::map<std::string, Object> objects_;
  std::map<std::string, Queue> queues_;  // by QueueId; only queues with a backlog
  std::set<std::string> dirty_;  // objects touched since TakeChanged
  bool all_dirty_ = false;
  std::vector<std::string> zeroed_;  // returned at zero by the last TakeChanged
  std::optional<std::string> leader_;
  size_t members_ = 1;
  std::function<void()> on_capacity_;
  std::function<void()> on_change_;
  std::unique_ptr<event::Timer> capacity_timer_;  // posts on_capacity
  std::unique_ptr<event::Timer> aging_timer_;
  int64_t aging_at_us_ = 0;  // when aging_timer_ fires, 0: not armed
  // Grant-change log lines: at most kLogBurst a second, the rest counted.
  int64_t log_second_ = 0;
  int log_lines_ = 0;
  uint64_t log_suppressed_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // leases check it
};

// A key as it may go on the wire (replication/shared_message.h: one printable word, bounded):
// other bytes become '_'.
std::string WireKey(std::string_view key);

}  // namespace ec::mta::cluster
