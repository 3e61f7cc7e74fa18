#include "mta/cluster/shared_replication.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/log/logger.h"

namespace ec::mta::cluster {
namespace {

using std::chrono::milliseconds;

// A message stays well under replication::kMaxMessageSize and its item cap.
constexpr size_t kChunkBytes = 256 * 1024;
constexpr size_t kChunkItems = 2000;
// How often a whisper to a member whose link is not up yet is tried again.
constexpr milliseconds kWhisperRetry{100};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

SharedReplication::SharedReplication(event::EventBase& base, SharedLimits& limits,
                                     SharedReplicationOptions options)
    : base_(base),
      limits_(limits),
      options_(std::move(options)),
      self_(options_.self.empty() ? "self" : options_.self) {
  flush_timer_ = std::make_unique<event::Timer>(base_, [this] { Flush(); });
  refresh_timer_ = std::make_unique<event::Timer>(base_, [this] { Refresh(); });
  refresh_timer_->StartRepeating(options_.refresh_interval);
  limits_.SetOnChange([this] { ScheduleFlush(milliseconds(0)); });
  UpdateLeader();
}

SharedReplication::~SharedReplication() {
  limits_.SetOnChange(nullptr);
  flush_timer_.reset();
  refresh_timer_.reset();
}

void SharedReplication::AttachBus(msgc::Bus* bus, std::string group,
                                  std::set<std::string> control_peers) {
  bus_ = bus;
  group_ = std::move(group);
  control_peers_ = std::move(control_peers);
  // Our figures go under the bus's name from now on.
  if (bus_->name() != self_) {
    table_.Forget(self_);
    self_ = bus_->name();
  }
  UpdateLeader();
  ScheduleFlush(milliseconds(0));
}

void SharedReplication::DetachBus() {
  bus_ = nullptr;
  whisper_to_.clear();
  for (const std::string& node : table_.Nodes()) {
    if (node != self_) table_.Forget(node);
  }
  UpdateLeader();
}

void SharedReplication::SetControlPeers(std::set<std::string> control_peers) {
  control_peers_ = std::move(control_peers);
  UpdateLeader();
}

void SharedReplication::SetSpecs(std::vector<ReplicateSpec> specs) {
  options_.specs = std::move(specs);
}

const ReplicateSpec* SharedReplication::SpecFor(std::string_view type) const {
  const std::string lower = Lower(type);
  for (const ReplicateSpec& s : options_.specs) {
    if (Lower(s.type) == lower) return &s;
  }
  return nullptr;
}

milliseconds SharedReplication::MaxDelay(std::string_view type) const {
  const ReplicateSpec* s = SpecFor(type);
  return s ? s->max_delay : milliseconds(1000);
}

uint64_t SharedReplication::MaxPending(std::string_view type) const {
  const ReplicateSpec* s = SpecFor(type);
  return s ? std::max<uint64_t>(s->max_pending, 1) : 100;
}

uint64_t SharedReplication::WallMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int64_t SharedReplication::SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SharedReplication::ScheduleFlush(milliseconds delay) {
  const int64_t at = SteadyUs() + delay.count() * 1000;
  if (flush_at_us_ != 0 && flush_at_us_ <= at && flush_timer_->IsPending()) return;
  flush_at_us_ = at;
  flush_timer_->Start(delay);
}

replication::ReportMessage SharedReplication::OwnReport(const std::vector<std::string>& keys,
                                                        bool full) {
  replication::ReportMessage r;
  r.sent_ms = WallMs();
  r.leader = limits_.leader().value_or("");
  r.full = full;
  if (full) {
    r.objects = limits_.Figures();
    return r;
  }
  for (const std::string& key : keys) {
    if (auto f = limits_.FiguresOf(key)) {
      r.objects.push_back(std::move(*f));
    } else if (const replication::ObjectFigures* last = table_.Find(self_, key)) {
      // Dropped as idle: at zero, with the limit it had.
      r.objects.push_back({.key = key, .limit = last->limit, .window_ms = last->window_ms});
    }
  }
  return r;
}

void SharedReplication::ApplyOwn(const std::vector<std::string>& keys, bool full) {
  table_.Apply(self_, OwnReport(keys, full));
}

void SharedReplication::Flush() {
  flush_at_us_ = 0;
  const int64_t now = SteadyUs();
  const std::vector<std::string> changed = limits_.TakeChanged();
  if (!changed.empty()) {
    ApplyOwn(changed, false);
    pending_.insert(changed.begin(), changed.end());
    touched_.insert(changed.begin(), changed.end());
  }
  if (limits_.leader() == self_) {
    if (allocate_all_) {
      AllocateAll();
    } else if (!touched_.empty()) {
      Allocate(touched_);
    }
  }
  allocate_all_ = false;
  touched_.clear();
  if (!bus_) {
    pending_.clear();
    return;
  }
  for (auto it = whisper_to_.begin(); it != whisper_to_.end();) {
    if (!bus_->IsAlive(*it)) {
      it = whisper_to_.erase(it);
    } else if (bus_->LinkUp(*it)) {
      SendReport({}, true, &*it);
      it = whisper_to_.erase(it);
    } else {
      ++it;
    }
  }
  // Changes go out per type at most every max_delay (a quiet type's first change at once), or
  // as soon as max_pending objects of the type wait.
  std::map<std::string, uint64_t> waiting;
  for (const std::string& key : pending_) ++waiting[std::string(replication::ObjectType(key))];
  std::vector<std::string> due;
  int64_t next = 0;
  for (const std::string& key : pending_) {
    const std::string type(replication::ObjectType(key));
    auto t = next_send_us_.find(type);
    if (t == next_send_us_.end() || t->second <= now || waiting[type] >= MaxPending(type)) {
      due.push_back(key);
    } else if (next == 0 || t->second < next) {
      next = t->second;
    }
  }
  if (!due.empty()) {
    SendReport(due, false, nullptr);
    for (const std::string& key : due) {
      const std::string type(replication::ObjectType(key));
      next_send_us_[type] = now + MaxDelay(type).count() * 1000;
      pending_.erase(key);
    }
  }
  if (next != 0) ScheduleFlush(milliseconds((next - now + 999) / 1000));
  if (!whisper_to_.empty()) ScheduleFlush(kWhisperRetry);
}

void SharedReplication::Refresh() {
  UpdateLeader();
  (void)limits_.TakeChanged(/*all=*/true);  // the full report carries every figure
  ApplyOwn({}, true);
  if (bus_) {
    SendReport({}, true, nullptr);
    pending_.clear();
  }
  if (limits_.leader() != self_) return;
  AllocateAll();
  // Every grant again, to repair a lost frame (a node ignores one it has applied).
  std::vector<replication::GrantEntry> all;
  for (const auto& [key, state] : allocators_) {
    for (const auto& [node, g] : state.granted) {
      if (node != self_) all.push_back({key, node, g.units, g.seq});
    }
  }
  SendGrants(std::move(all));
}

void SharedReplication::UpdateLeader() {
  std::optional<std::string> next;
  std::vector<std::string> alive;
  if (bus_) {
    LimitMembers lm = LimitMembersOf(bus_->view(), self_, group_, control_peers_, &bystanders_,
                                     msgc::Clock::now());
    next = replication::LeaderOf(lm.alive, lm.members);
    members_ = std::move(lm.members);
    alive = std::move(lm.alive);
  } else {
    if (options_.standalone) next = self_;
    members_ = {self_};
    alive = {self_};
  }
  const std::set<std::string> alive_set(alive.begin(), alive.end());
  const bool view_changed = alive_set != alive_;
  alive_ = alive_set;
  const bool changed = next != limits_.leader();
  limits_.SetLeader(next, members_.size());
  if (changed) {
    EC_LOG(kInfo, "shared limits leader")
        .Field("leader", next.value_or("-"))
        .Field("members", members_.size())
        .Field("alive", alive_.size());
    // Our report names whom we follow: the leader's increases wait for it.
    (void)limits_.TakeChanged();
    ApplyOwn({}, true);
    if (bus_) {
      SendReport({}, true, nullptr);
      pending_.clear();
    }
  }
  if (next == self_ && (changed || view_changed)) {
    allocate_all_ = true;
    ScheduleFlush(milliseconds(0));
  }
}

void SharedReplication::Allocate(const std::set<std::string>& keys) {
  const std::vector<std::string> reported = table_.Nodes();
  const std::set<std::string> have(reported.begin(), reported.end());
  std::vector<replication::GrantEntry> out;
  for (const std::string& key : keys) {
    std::vector<replication::NodeShare> live;
    uint64_t limit = std::numeric_limits<uint64_t>::max();
    for (replication::NodeShare& s : table_.Shares(key)) {
      if (!alive_.contains(s.node)) continue;
      limit = std::min(limit, table_.Find(s.node, key)->limit);  // all agree unless mid-reload
      live.push_back(std::move(s));
    }
    if (live.empty()) {
      allocators_.erase(key);
      continue;
    }
    // A live member whose figures we have not had yet may hold units: increases wait for it.
    for (const std::string& node : alive_) {
      if (!have.contains(node)) live.push_back({.node = node});
    }
    for (const replication::Grant& g :
         replication::Allocate(self_, limit, live, &allocators_[key])) {
      if (g.node == self_) {
        (void)limits_.ApplyGrant(key, g.units, self_, g.seq);
      } else {
        out.push_back({key, g.node, g.units, g.seq});
      }
    }
  }
  SendGrants(std::move(out));
}

void SharedReplication::AllocateAll() {
  const std::vector<std::string> keys = table_.Keys();
  const std::set<std::string> all(keys.begin(), keys.end());
  std::erase_if(allocators_, [&all](const auto& kv) { return !all.contains(kv.first); });
  Allocate(all);
}

void SharedReplication::SendGrants(std::vector<replication::GrantEntry> grants) {
  if (!bus_ || grants.empty()) return;
  size_t i = 0;
  while (i < grants.size()) {
    replication::GrantMessage m;
    m.sent_ms = WallMs();
    size_t bytes = 0;
    while (i < grants.size() && m.grants.size() < kChunkItems && bytes < kChunkBytes) {
      bytes += grants[i].key.size() + grants[i].node.size() + 48;
      m.grants.push_back(std::move(grants[i++]));
    }
    const size_t n = m.grants.size();
    Status s = bus_->Shout(group_, replication::EncodeMessage(m));
    if (!s.ok()) EC_LOG(kWarn, "shared limits grants not sent").Field("error", s);
    Count(grants_sent_);
    grant_entries_sent_ += n;
  }
}

void SharedReplication::SendReport(const std::vector<std::string>& keys, bool full,
                                   const std::string* to) {
  if (!bus_) return;
  replication::ReportMessage all = OwnReport(keys, full);
  size_t i = 0;
  bool first = true;
  // A full report in several messages: the first replaces, the rest add (they arrive in order).
  while (first || i < all.objects.size()) {
    replication::ReportMessage m{.sent_ms = all.sent_ms, .leader = all.leader,
                                 .full = full && first};
    size_t bytes = 0;
    while (i < all.objects.size() && m.objects.size() < kChunkItems && bytes < kChunkBytes) {
      bytes += all.objects[i].key.size() + 80;
      m.objects.push_back(std::move(all.objects[i++]));
    }
    first = false;
    std::string payload = replication::EncodeMessage(m);
    Status s = to ? bus_->Whisper(*to, group_, std::move(payload))
                  : bus_->Shout(group_, std::move(payload));
    if (!s.ok()) EC_LOG(kDebug, "shared limits report not sent").Field("error", s);
    Count(reports_sent_);
  }
}

bool SharedReplication::OnMessage(const msgc::Message& message) {
  auto decoded = replication::DecodeMessage(message.payload);
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::kNotFound) return false;
    EC_LOG(kWarn, "shared limits message dropped")
        .Field("from", message.sender)
        .Field("error", decoded.status());
    return true;
  }
  // Our own, or a late frame of a member already dropped from the view (its share is gone).
  if (message.sender == self_ || (bus_ && !bus_->IsAlive(message.sender))) return true;
  const uint64_t now_ms = WallMs();
  if (auto* r = std::get_if<replication::ReportMessage>(&*decoded)) {
    Count(reports_received_);
    Lag(now_ms, r->sent_ms);
    // The bus authenticated the sender: a member speaks for itself only.
    if (r->full) {
      allocate_all_ = true;  // objects it no longer lists are at 0
    } else {
      for (const replication::ObjectFigures& o : r->objects) touched_.insert(o.key);
    }
    table_.Apply(message.sender, *r);
    if (limits_.leader() == self_) ScheduleFlush(milliseconds(0));
    return true;
  }
  const auto& g = std::get<replication::GrantMessage>(*decoded);
  Count(grants_received_);
  Lag(now_ms, g.sent_ms);
  if (limits_.leader() != message.sender) return true;  // only the leader we follow
  for (const replication::GrantEntry& e : g.grants) {
    if (e.node == self_) (void)limits_.ApplyGrant(e.key, e.units, message.sender, e.seq);
  }
  return true;
}

void SharedReplication::OnMembership(const msgc::MembershipEvent& event) {
  using K = msgc::MembershipEvent::Kind;
  if (event.kind == K::kDead || (event.kind == K::kGroupLeft && event.group == group_)) {
    // Dropped from the view: it claims nothing any more, its share goes to the others.
    table_.Forget(event.peer);
    whisper_to_.erase(event.peer);
  }
  if (event.kind == K::kGroupJoined && event.group == group_) {
    // Our snapshot for the newcomer (once its link is up).
    whisper_to_.insert(event.peer);
    ScheduleFlush(milliseconds(0));
  }
  UpdateLeader();
}

void SharedReplication::Count(Counter& c) {
  ++c.total;
  c.recent.Add(SteadyUs());
}

double SharedReplication::Rate(Counter& c) {
  return static_cast<double>(c.recent.Count(SteadyUs())) /
         (static_cast<double>(c.recent.window_us()) / 1e6);
}

void SharedReplication::Lag(uint64_t now_ms, uint64_t sent_ms) {
  lag_ms_.push_back(now_ms > sent_ms ? now_ms - sent_ms : 0);
  if (lag_ms_.size() > kLagSamples) lag_ms_.pop_front();
}

}  // namespace ec::mta::cluster
