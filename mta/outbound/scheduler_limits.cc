// The scheduler's limits beyond the per-queue connection caps: the outbound_throttle_*
// sliding windows, Host-scope max_outbound_connections (per remote address, asked by each
// SmtpClient before it connects) and the cluster-wide OutboundLimits hooks.
#include <algorithm>

#include "common/config/resolve.h"
#include "common/config/value.h"
#include "common/log/logger.h"
#include "mta/outbound/scheduler.h"
#include "mta/outbound/scheduler_internal.h"

namespace ec::outbound {

// One connection's hold on a remote address: counted in every host counter it belongs to,
// plus the cluster's lease on the address. Released when the client moves on or closes.
class Scheduler::HostLease : public LimitLease {
 public:
  HostLease(Scheduler* s, std::vector<std::string> counters, std::unique_ptr<LimitLease> cluster)
      : s_(s), alive_(s->alive_), counters_(std::move(counters)), cluster_(std::move(cluster)) {
    for (const std::string& c : counters_) s_->host_connections_[c]++;
  }
  ~HostLease() override {
    cluster_.reset();
    if (!*alive_) return;  // the scheduler is going (or gone): nothing to count
    for (const std::string& c : counters_) {
      auto it = s_->host_connections_.find(c);
      if (it != s_->host_connections_.end() && --it->second == 0) s_->host_connections_.erase(it);
    }
    s_->HostReleased();
  }

 private:
  Scheduler* s_;
  std::shared_ptr<bool> alive_;
  std::vector<std::string> counters_;
  std::unique_ptr<LimitLease> cluster_;
};

namespace {

std::string GroupCounter(const std::string& group, const std::string& ip) {
  return "g:" + group + "|" + ip;
}
std::string BindingCounter(const std::string& binding, const std::string& ip) {
  return "b:" + binding + "|" + ip;
}

}  // namespace

int64_t Scheduler::MonoUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Scheduler::ThrottleFull(Domain& d, SlidingWindow& window, const config::Rate& rate,
                             int64_t now, uint64_t in_flight) {
  if (rate.count <= 0) return false;
  const int64_t span = std::max<int64_t>(rate.per_seconds, 1) * kSecond;
  if (window.window_us() != span) window.SetWindow(span);  // a reload changed the rate
  if (window.Count(now) + in_flight < static_cast<uint64_t>(rate.count)) return false;
  const int64_t at = window.NextExpiryUs();
  // Full of sends still in flight only: the next one to end re-checks (OnDone, OnReady).
  if (at == 0) return true;
  if (!d.throttle_timer) {
    Domain* dp = &d;
    d.throttle_timer = std::make_unique<event::Timer>(*s_.base, [this, dp] {
      dp->throttle_at_us = 0;
      Dispatch(*dp);
    });
  }
  if (!d.throttle_timer->IsPending() || at < d.throttle_at_us) {
    d.throttle_at_us = at;
    d.throttle_timer->Start(std::chrono::milliseconds(std::max<int64_t>(0, at - now) / 1000 + 1));
  }
  return true;
}

void Scheduler::ThrottleNote(SlidingWindow& window, const config::Rate& rate, int64_t now) {
  if (rate.count > 0) window.Add(now);
}

const Scheduler::HostCap& Scheduler::HostCapFor(const Domain& d, const std::string& ip) {
  auto [it, inserted] = host_caps_.try_emplace({d.binding.name, ip});
  if (!inserted) return it->second;
  // Only a Host scope's setting caps an address; from any other scope the option is the
  // queue's own cap (DomainPolicy::max_connections). The domain does not change which host
  // level answers, so the cap is cached per binding and address.
  const config::ScopePath path{.binding_group = d.binding.group, .binding = d.binding.name,
                               .host = ip};
  auto r = config::Eval(*config_, config::DefaultSchema(), path, "max_outbound_connections");
  const std::string host = "host " + config::Quote(ip);
  if (!r.ok() || r->from_default || !r->scope.ends_with(host)) return it->second;
  auto cap = r->value.AsInt();
  if (!cap.ok()) {
    EC_LOG(kError, "host connection cap")
        .Field("host", ip)
        .Field("error", cap.status().WithContext(r->location.ToString()));
    return it->second;
  }
  it->second.cap = *cap;
  if (r->scope == host) {
    it->second.counter = ip;
  } else if (r->scope == "binding_group " + config::Quote(d.binding.group) + " > " + host) {
    it->second.counter = GroupCounter(d.binding.group, ip);
  } else {
    it->second.counter = BindingCounter(d.binding.name, ip);
  }
  return it->second;
}

bool Scheduler::HostFull(const Domain& d, const std::string& ip) {
  const HostCap& cap = HostCapFor(d, ip);
  if (cap.cap < 0) return false;
  auto it = host_connections_.find(cap.counter);
  const size_t open = it == host_connections_.end() ? 0 : it->second;
  return static_cast<int64_t>(open) >= cap.cap;
}

bool Scheduler::EveryHostFull(const Domain& d) {
  if (d.hops.empty()) return false;
  return std::all_of(d.hops.begin(), d.hops.end(),
                     [&](const Hop& h) { return HostFull(d, h.address.host()); });
}

std::unique_ptr<LimitLease> Scheduler::LeaseHost(Domain& d, const std::string& ip) {
  if (HostFull(d, ip)) {
    waiting_host_.insert(&d);
    return nullptr;
  }
  std::unique_ptr<LimitLease> cluster;
  if (s_.limits) {
    LimitScope scope = d.scope;
    scope.host = ip;
    cluster = s_.limits->AcquireHost(scope);
    // Only if no address is left does the queue wait for on_capacity (OnClosed): another
    // address may still take this connection.
    d.host_refused_by_cluster = !cluster;
    d.host_refused_at_capacity = capacity_events_;
    if (!cluster) return nullptr;
  }
  std::vector<std::string> counters{ip, GroupCounter(d.binding.group, ip),
                                    BindingCounter(d.binding.name, ip)};
  return std::make_unique<HostLease>(this, std::move(counters), std::move(cluster));
}

void Scheduler::HostReleased() {
  // Called from inside a client (it moved on or closed): dispatch on a later loop turn.
  if (waiting_host_.empty() || host_dispatch_posted_) return;
  host_dispatch_posted_ = true;
  s_.base->RunInLoop([this, alive = alive_] {
    if (!*alive) return;
    host_dispatch_posted_ = false;
    DispatchWaiting(&waiting_host_);
  });
}

void Scheduler::OnCapacity() {
  ++capacity_events_;
  if (waiting_cluster_.empty() || capacity_dispatch_posted_) return;
  capacity_dispatch_posted_ = true;
  s_.base->RunInLoop([this, alive = alive_] {
    if (!*alive) return;
    capacity_dispatch_posted_ = false;
    DispatchWaiting(&waiting_cluster_);
  });
}

void Scheduler::DispatchWaiting(std::set<Domain*>* waiting) {
  // Taken out first: a queue still refused goes back into the set.
  std::set<Domain*> due;
  due.swap(*waiting);
  for (Domain* d : due) Dispatch(*d);
}

void Scheduler::ReportBacklog(Domain& d) {
  if (!s_.limits) return;
  // A held queue asks for no units, so it claims no share.
  const size_t backlog = Suspended(d) ? 0 : d.ready.size();
  if (backlog == d.reported_backlog) return;
  d.reported_backlog = backlog;
  s_.limits->SetBacklog(d.scope, backlog);
}

}  // namespace ec::outbound
