#include "mta/cluster/shared_limits.h"

#include <algorithm>
#include <chrono>

#include "common/config/text_util.h"
#include "common/log/logger.h"
#include "mta/cluster/named_throttles.h"
#include "replication/share_allocator.h"

namespace ec::mta::cluster {
namespace {

// A refused acquire keeps the object's demand at least one unit past its usage this long (or
// until the queue says it has nothing waiting), so an object no queue backlog counts on yet
// still asks for a share.
constexpr int64_t kWantedUs = 2'000'000;
// Grant-change log lines a second; the rest are counted into the next line.
constexpr int kLogBurst = 20;
// The aging timer never fires more often than this.
constexpr int64_t kMinAgingUs = 5'000;

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool SameFigures(const replication::ObjectFigures& a, const replication::ObjectFigures& b) {
  return a.limit == b.limit && a.window_ms == b.window_ms && a.usage == b.usage &&
         a.demand == b.demand && a.held == b.held && a.acked_seq == b.acked_seq;
}

}  // namespace

std::string WireKey(std::string_view key) {
  std::string out(key.substr(0, replication::kMaxKeySize));
  for (char& c : out) {
    if (c <= ' ' || c > '~') c = '_';
  }
  return out;
}

class SharedLimits::Lease : public outbound::LimitLease {
 public:
  Lease(SharedLimits* owner, std::weak_ptr<bool> alive, std::vector<std::string> keys)
      : owner_(owner), alive_(std::move(alive)), keys_(std::move(keys)) {}
  ~Lease() override {
    if (!keys_.empty() && !alive_.expired()) owner_->Release(keys_);
  }

 private:
  SharedLimits* owner_;
  std::weak_ptr<bool> alive_;
  std::vector<std::string> keys_;  // the connection objects it holds a unit of
};

SharedLimits::SharedLimits(std::shared_ptr<const config::Config> config,
                           SharedLimitsOptions options)
    : now_us_(options.now_us ? std::move(options.now_us) : SteadyNowUs),
      base_(options.base),
      resolver_(std::make_unique<LimitResolver>(config)),
      named_(ReadSharedThrottles(*config)) {
  if (base_) {
    capacity_timer_ = std::make_unique<event::Timer>(*base_, [this] {
      if (on_capacity_) on_capacity_();
    });
    aging_timer_ = std::make_unique<event::Timer>(*base_, [this] {
      aging_at_us_ = 0;
      Tick();
    });
  }
  SyncNamedThrottles();
}

SharedLimits::~SharedLimits() { *alive_ = false; }

void SharedLimits::Apply(std::shared_ptr<const config::Config> config) {
  named_ = ReadSharedThrottles(*config);
  resolver_ = std::make_unique<LimitResolver>(std::move(config));
  SyncNamedThrottles();
  for (auto& [id, q] : queues_) {
    q.host_keys.clear();  // AcquireHost attaches them again
    SetQueueKeys(q, RuleKeys(q.scope));
  }
  all_dirty_ = true;
  Changed();
}

void SharedLimits::SetOnCapacity(std::function<void()> on_capacity) {
  on_capacity_ = std::move(on_capacity);
}

SharedLimits::Object& SharedLimits::ObjectFor(const LimitRule& rule) {
  std::string key = WireKey(rule.key);
  Object& o = objects_[key];
  dirty_.insert(std::move(key));  // the caller is about to count on it
  o.limit = rule.limit;
  if (o.window_ms != rule.window_ms || (rule.window_ms > 0 && !o.sends)) {
    o.window_ms = rule.window_ms;
    const int64_t window_us = static_cast<int64_t>(rule.window_ms) * 1000;
    if (rule.window_ms == 0) {
      o.sends.reset();
    } else if (o.sends) {
      o.sends->SetWindow(window_us);
    } else {
      o.sends = std::make_unique<SlidingWindow>(window_us);
    }
  }
  return o;
}

void SharedLimits::SyncNamedThrottles() {
  std::set<std::string> keys;
  for (const auto& [name, rule] : named_) {
    if (rule.limit == 0) continue;
    ObjectFor(rule).inbound = true;
    keys.insert(WireKey(rule.key));
  }
  // A throttle removed by a reload: its demand falls to its usage and the object ages out.
  for (auto& [key, o] : objects_) {
    if (o.inbound && !keys.contains(key)) {
      o.inbound = false;
      dirty_.insert(key);
    }
  }
}

bool SharedLimits::TakeTransaction(std::string_view name) {
  auto it = named_.find(config::ToLower(name));
  if (it == named_.end() || it->second.limit == 0) return true;
  return Take({it->second}) != nullptr;
}

uint64_t SharedLimits::Allowed(const Object& o) const {
  if (o.inbound && leader_ && members_ == 1) return o.limit;
  return std::min(o.held, o.limit);
}

uint64_t SharedLimits::Usage(Object& o, int64_t now) {
  return o.sends ? o.sends->Count(now) + o.sends_in_flight : o.connections;
}

std::vector<SharedLimits::Object*> SharedLimits::Admit(const std::vector<LimitRule>& rules,
                                                        int64_t now) {
  std::vector<Object*> objects;
  bool ok = true;
  for (const LimitRule& rule : rules) {
    Object& o = ObjectFor(rule);
    objects.push_back(&o);
    if (Usage(o, now) < Allowed(o)) continue;
    ok = false;
    // Every refusing rule: each must say when it can take one more.
    o.waiting = true;
    // A refused transaction asks for units for a window (it may come back any time in it).
    o.wanted_until_us =
        now + (o.inbound ? std::max<int64_t>(kWantedUs, static_cast<int64_t>(o.window_ms) * 1000)
                            : kWantedUs);
  }
  if (!ok) {
    ArmAgingTimer();
    Changed();  // demand may have grown
    objects.clear();
    objects.push_back(nullptr);
  }
  return objects;
}

std::unique_ptr<outbound::LimitLease> SharedLimits::Take(std::vector<LimitRule> rules,
                                                          bool message) {
  // One unit per object, however many settings name it.
  std::set<std::string> seen;
  std::erase_if(rules, [&seen](const LimitRule& r) { return !seen.insert(r.key).second; });
  const int64_t now = Now();
  std::vector<Object*> objects = Admit(rules, now);
  if (!objects.empty() && objects.front() == nullptr) return nullptr;
  std::vector<std::string> keys;
  for (size_t i = 0; i < rules.size(); ++i) {
    Object& o = *objects[i];
    if (o.sends && message) {
      ++o.sends_in_flight;  // the lease's release puts it in the window
      keys.push_back(WireKey(rules[i].key));
    } else if (o.sends) {
      o.sends->Add(now);  // holds its unit until it is one window old
      ArmAgingTimerAt(now + o.sends->window_us());
    } else {
      ++o.connections;
      keys.push_back(WireKey(rules[i].key));
    }
  }
  if (!rules.empty()) Changed();
  return std::make_unique<Lease>(this, alive_, std::move(keys));
}

std::unique_ptr<outbound::LimitLease> SharedLimits::AcquireConnection(
    const outbound::LimitScope& scope) {
  return Take(resolver_->Resolve(scope, LimitUnit::kConnection));
}

std::unique_ptr<outbound::LimitLease> SharedLimits::AcquireHost(const outbound::LimitScope& scope) {
  std::vector<LimitRule> rules = resolver_->Resolve(scope, LimitUnit::kHostConnection);
  // The queue's backlog is demand on the addresses it tries too.
  auto q = queues_.find(QueueId(scope));
  if (q != queues_.end() && !rules.empty()) {
    std::set<std::string> host_keys = q->second.host_keys;
    for (const LimitRule& r : rules) {
      ObjectFor(r);
      host_keys.insert(WireKey(r.key));
    }
    if (host_keys != q->second.host_keys) {
      AddBacklog(q->second, -1);
      q->second.host_keys = std::move(host_keys);
      AddBacklog(q->second, +1);
    }
  }
  return Take(std::move(rules));
}

std::unique_ptr<outbound::LimitLease> SharedLimits::AcquireMessage(
    const outbound::LimitScope& scope) {
  std::vector<LimitRule> rules = resolver_->Resolve(scope, LimitUnit::kMessage);
  std::erase_if(rules, [](const LimitRule& r) { return r.window_ms == 0; });
  return Take(std::move(rules), /*message=*/true);
}

std::set<std::string> SharedLimits::RuleKeys(const outbound::LimitScope& scope) {
  std::set<std::string> keys;
  for (LimitUnit unit : {LimitUnit::kConnection, LimitUnit::kMessage}) {
    std::vector<LimitRule> rules = resolver_->Resolve(scope, unit);
    for (const LimitRule& r : rules) {
      ObjectFor(r);
      keys.insert(WireKey(r.key));
    }
  }
  return keys;
}

void SharedLimits::AddBacklog(const Queue& q, int sign) {
  const auto apply = [&](const std::string& key) {
    auto it = objects_.find(key);
    if (it == objects_.end()) return;
    dirty_.insert(key);
    uint64_t& b = it->second.backlog;
    b = sign > 0 ? b + q.backlog : b - std::min<uint64_t>(b, q.backlog);
  };
  for (const std::string& k : q.keys) apply(k);
  for (const std::string& k : q.host_keys) {
    if (!q.keys.contains(k)) apply(k);
  }
}

void SharedLimits::SetQueueKeys(Queue& q, std::set<std::string> keys) {
  AddBacklog(q, -1);
  q.keys = std::move(keys);
  AddBacklog(q, +1);
}

std::string SharedLimits::QueueId(const outbound::LimitScope& scope) {
  return scope.binding + '\n' + scope.binding_group + '\n' + scope.domain;
}

void SharedLimits::SetBacklog(const outbound::LimitScope& scope, size_t backlog) {
  const std::string id = QueueId(scope);
  auto it = queues_.find(id);
  if (backlog == 0) {
    if (it == queues_.end()) return;
    // Nothing waits here any more: what its refusals wanted is no demand now.
    for (const auto* keys : {&it->second.keys, &it->second.host_keys}) {
      for (const std::string& k : *keys) {
        if (auto o = objects_.find(k); o != objects_.end()) o->second.wanted_until_us = 0;
      }
    }
    AddBacklog(it->second, -1);
    queues_.erase(it);
    Changed();
    return;
  }
  if (it == queues_.end()) {
    std::set<std::string> keys = RuleKeys(scope);
    if (keys.empty()) return;  // nothing cluster-limited: nothing to count
    Queue q;
    q.scope = scope;
    q.scope.host.clear();
    q.keys = std::move(keys);
    it = queues_.emplace(id, std::move(q)).first;
  } else if (it->second.backlog == backlog) {
    return;
  }
  AddBacklog(it->second, -1);
  it->second.backlog = backlog;
  AddBacklog(it->second, +1);
  Changed();
}

bool SharedLimits::OverShare(const outbound::LimitScope& scope) {
  const auto over = [this](const std::vector<LimitRule>& rules) {
    for (const LimitRule& r : rules) {
      if (r.window_ms > 0) continue;
      auto it = objects_.find(WireKey(r.key));
      if (it != objects_.end() && it->second.connections > Allowed(it->second)) return true;
    }
    return false;
  };
  if (over(resolver_->Resolve(scope, LimitUnit::kConnection))) return true;
  return !scope.host.empty() && over(resolver_->Resolve(scope, LimitUnit::kHostConnection));
}

void SharedLimits::Release(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    auto it = objects_.find(key);
    if (it == objects_.end()) continue;
    Object& o = it->second;
    if (o.sends) {
      // A send ended: its unit stays taken for one window from now (usage does not drop).
      if (o.sends_in_flight == 0) continue;
      --o.sends_in_flight;
      const int64_t now = Now();
      o.sends->Add(now);
      ArmAgingTimerAt(now + o.sends->window_us());
      dirty_.insert(key);
      continue;
    }
    if (o.connections == 0) continue;
    dirty_.insert(key);
    --o.connections;
    if (o.connections < Allowed(o)) CapacityMayHaveGrown(o);
  }
  Changed();
}

void SharedLimits::SetLeader(std::optional<std::string> leader, size_t members) {
  members_ = std::max<size_t>(members, 1);
  const bool changed = leader != leader_;
  leader_ = std::move(leader);
  if (changed) all_dirty_ = true;  // acked_seq is the new leader's
  if (!leader_) {
    for (auto& [key, o] : objects_) {
      const uint64_t share = replication::StaticShare(o.limit, members_);
      if (o.held > share) SetHeld(key, o, share);
    }
  }
  if (changed) Changed();
}

bool SharedLimits::ApplyGrant(const std::string& key, uint64_t units, const std::string& from,
                              uint64_t seq) {
  if (!leader_ || from != *leader_) return false;
  auto it = objects_.find(key);
  if (it == objects_.end()) return false;
  Object& o = it->second;
  if (o.grant_from == from && seq <= o.grant_seq) return false;  // old or repeated
  o.grant_from = from;
  o.grant_seq = seq;
  SetHeld(key, o, units);
  Changed();
  return true;
}

void SharedLimits::SetHeld(const std::string& key, Object& o, uint64_t units) {
  dirty_.insert(key);
  if (units == o.held) return;
  const uint64_t old = o.held;
  o.held = units;
  const int64_t second = Now() / 1'000'000;
  if (second != log_second_) {
    log_second_ = second;
    log_lines_ = 0;
  }
  if (log_lines_ < kLogBurst) {
    ++log_lines_;
    EC_LOG(kInfo, "shared limit grant")
        .Field("key", key)
        .Field("old", old)
        .Field("new", units)
        .Field("leader", leader_.value_or("-"))
        .Field("suppressed", log_suppressed_);
    log_suppressed_ = 0;
  } else {
    ++log_suppressed_;
  }
  if (units > old) CapacityMayHaveGrown(o);
}

void SharedLimits::CapacityMayHaveGrown(Object& o) {
  if (!o.waiting) return;
  o.waiting = false;
  if (capacity_timer_) {
    capacity_timer_->Start(std::chrono::milliseconds(0));  // coalesces
  } else if (on_capacity_) {
    on_capacity_();
  }
}

void SharedLimits::Changed() {
  if (on_change_) on_change_();
}

replication::ObjectFigures SharedLimits::MakeFigures(const std::string& key, Object& o,
                                                     int64_t now) {
  const uint64_t usage = Usage(o, now);
  // The backlog is the demand; a refusal counts only while no queue says what it waits with.
  // Inbound (TakeTransaction): the whole limit after a refusal, else one unit ahead.
  const bool wanted = o.wanted_until_us > now;
  const uint64_t more = o.backlog > 0 ? o.backlog
                        : o.inbound   ? (wanted ? o.limit : 1)
                                      : (wanted ? 1 : 0);
  return {.key = key,
          .limit = o.limit,
          .window_ms = o.window_ms,
          .usage = usage,
          .demand = std::min(o.limit, usage + std::min(more, o.limit)),
          .held = o.held,
          .acked_seq = leader_ && o.grant_from == *leader_ ? o.grant_seq : 0};
}

std::vector<replication::ObjectFigures> SharedLimits::Figures() {
  const int64_t now = Now();
  std::vector<replication::ObjectFigures> out;
  out.reserve(objects_.size());
  for (auto& [key, o] : objects_) out.push_back(MakeFigures(key, o, now));
  return out;
}

std::optional<replication::ObjectFigures> SharedLimits::FiguresOf(const std::string& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return MakeFigures(key, it->second, Now());
}

std::vector<std::string> SharedLimits::TakeChanged(bool all) {
  const int64_t now = Now();
  // Returned at zero last time and idle since: a full report without them says the same.
  for (const std::string& key : zeroed_) {
    auto it = objects_.find(key);
    if (it != objects_.end() && Idle(it->second, now)) objects_.erase(it);
  }
  zeroed_.clear();
  std::vector<std::string> keys;
  if (all || all_dirty_) {
    for (const auto& [key, o] : objects_) keys.push_back(key);
  } else {
    keys.assign(dirty_.begin(), dirty_.end());
  }
  dirty_.clear();
  all_dirty_ = false;
  std::vector<std::string> out;
  for (const std::string& key : keys) {
    auto it = objects_.find(key);
    if (it == objects_.end()) continue;
    Object& o = it->second;
    replication::ObjectFigures f = MakeFigures(key, o, now);
    if (o.reported && SameFigures(*o.reported, f)) continue;
    if (f.usage == 0 && f.demand == 0 && f.held == 0) zeroed_.push_back(key);
    o.reported = std::move(f);
    out.push_back(key);
  }
  return out;
}

bool SharedLimits::Idle(Object& o, int64_t now) {
  return o.reported && o.reported->usage == 0 && o.reported->demand == 0 &&
         o.reported->held == 0 && o.connections == 0 && o.backlog == 0 && o.held == 0 &&
         o.wanted_until_us <= now && Usage(o, now) == 0;
}

void SharedLimits::Tick() {
  const int64_t now = Now();
  bool aged = false;
  for (auto& [key, o] : objects_) {
    if (!o.sends) continue;
    const int64_t next = o.sends->NextExpiryUs();
    if (next == 0 || next > now) continue;
    aged = true;
    dirty_.insert(key);
    if (Usage(o, now) < Allowed(o)) CapacityMayHaveGrown(o);
  }
  ArmAgingTimer();
  if (aged) Changed();
}

void SharedLimits::ArmAgingTimer() {
  if (!aging_timer_) return;
  int64_t next = 0;
  for (auto& [key, o] : objects_) {
    if (!o.sends) continue;
    const int64_t at = o.sends->NextExpiryUs();
    if (at > 0 && (next == 0 || at < next)) next = at;
  }
  if (next != 0) ArmAgingTimerAt(next);
}

void SharedLimits::ArmAgingTimerAt(int64_t at_us) {
  if (!aging_timer_) return;
  const int64_t now = Now();
  at_us = std::max(at_us, now + kMinAgingUs);
  // An earlier expiry is already scheduled: Tick arms the next one then.
  if (aging_at_us_ != 0 && aging_at_us_ <= at_us && aging_timer_->IsPending()) return;
  aging_at_us_ = at_us;
  aging_timer_->Start(std::chrono::milliseconds((at_us - now + 999) / 1000));
}

}  // namespace ec::mta::cluster
