#include "mta/cluster/duravip_module.h"

#include <algorithm>
#include <ctime>
#include <sstream>

#include "common/log/logger.h"
#include "duravip/stall.h"

namespace ec::mta::cluster {
namespace {

using msgc::Clock;
using std::chrono::milliseconds;

constexpr milliseconds kPublishInterval{500};
constexpr milliseconds kQueryTimeout{1000};
// Follow-up gratuitous ARPs after the first, and their spacing (keepalived sends a second burst
// later too: a switch that missed the first learns the new port).
constexpr int kFollowUpAnnouncements = 2;
constexpr milliseconds kFollowUpSpacing{200};

// Our own decisions come from the bus's timers: a tick at least twice a heartbeat, so the
// lease below is renewed well before it runs out.
milliseconds TickInterval(const msgc::BusOptions& o) {
  return std::clamp(o.heartbeat_interval / 2, milliseconds(20), milliseconds(100));
}

// A node holds addresses only while it has heard a majority within this: two heartbeats less
// than the dead_timeout after which the others take over, so it lets go first.
milliseconds Lease(const msgc::BusOptions& o) {
  return std::max(o.dead_timeout - 2 * o.heartbeat_interval, o.heartbeat_interval);
}

std::string Join(const std::vector<std::string>& v, const char* sep = " ") {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

DuravipModule::DuravipModule(event::EventBase& base, msgc::Bus& bus, std::string group,
                             duravip::DuravipConfig config, std::unique_ptr<VipPlumbing> plumbing,
                             DuravipHooks hooks)
    : bus_(bus),
      group_(std::move(group)),
      config_(std::move(config)),
      plumbing_(std::move(plumbing)),
      hooks_(std::move(hooks)) {}

Result<std::unique_ptr<DuravipModule>> DuravipModule::Create(
    event::EventBase& base, msgc::Bus& bus, std::string group, duravip::DuravipConfig config,
    std::unique_ptr<VipPlumbing> plumbing, DuravipHooks hooks) {
  std::unique_ptr<DuravipModule> m(new DuravipModule(base, bus, std::move(group),
                                                     std::move(config), std::move(plumbing),
                                                     std::move(hooks)));
  // A crash may have left addresses behind: none is ours until an election says so.
  for (const std::string& a : m->config_.Addresses()) {
    const duravip::TopologyEntry* t = m->config_.TopologyFor(a);
    if (!t) return InvalidArgument("DuraVIP " + a + " is outside every cluster { Topology }");
    EC_RETURN_IF_ERROR(m->plumbing_->Flush(a, t->prefix, t->interface)
                           .WithContext("removing leftover DuraVIP " + a));
  }
  m->UpdateHooks();
  m->last_tick_ = Clock::now();
  m->timer_ = std::make_unique<event::Timer>(base, [raw = m.get()] { raw->Tick(); });
  m->timer_->StartRepeating(TickInterval(bus.options()));
  EC_LOG(kInfo, "duravip started")
      .Field("addresses", Join(m->config_.Addresses(), ","))
      .Field("lease_ms", Lease(bus.options()).count());
  return m;
}

DuravipModule::~DuravipModule() {
  *alive_ = false;
  timer_.reset();
  ReleaseAll("shutting down");
}

void DuravipModule::Apply(duravip::DuravipConfig config) {
  config_ = std::move(config);
  dirty_ = true;
  UpdateHooks();
}

duravip::NodeReport DuravipModule::SelfReport() const {
  return {.node = bus_.name(), .configured = config_.Configured(), .held = held_};
}

duravip::ElectionInput DuravipModule::Input(size_t budget) const {
  duravip::ElectionInput in;
  in.alive.push_back(SelfReport());
  for (const auto& [node, report] : reports_) {
    if (bus_.IsAlive(node)) in.alive.push_back(report);
  }
  in.overrides = overrides_;
  in.balance_budget = budget;
  return in;
}

bool DuravipModule::HaveQuorum(Clock::time_point now, size_t* seen, size_t* needed) const {
  const msgc::View& view = bus_.view();
  const size_t voters = view.members.size();
  *needed = config_.quorum > 0 ? std::min(config_.quorum, voters) : voters / 2 + 1;
  const auto lease = Lease(bus_.options());
  *seen = 0;
  for (const msgc::Member& m : view.members) {
    if (m.name == bus_.name()) {
      ++*seen;
    } else if (m.state == msgc::PeerState::kAlive && now - m.last_heard < lease) {
      ++*seen;
    }
  }
  return *seen >= *needed;
}

std::vector<std::string> DuravipModule::Group(const std::string& address) const {
  std::vector<std::string> out = {address};
  for (const duravip::FollowEntry& f : config_.follows) {
    if (config_.FollowedAddress(f) == address && f.address != address) out.push_back(f.address);
  }
  return out;
}

void DuravipModule::Tick() {
  const auto now = Clock::now();
  const auto gap = std::chrono::duration_cast<milliseconds>(now - last_tick_);
  last_tick_ = now;
  if (!participating_) {
    // Join first, take part only once the view has settled (Momentum's view_mature_time).
    if (!bus_.Mature()) {
      Publish();
      return;
    }
    participating_ = true;
    next_balance_ = now + config_.balance_interval;
    AwaitReportsFromAll();
    EC_LOG(kInfo, "duravip view mature").Field("view", bus_.view().id);
  } else if (duravip::PeersMayHaveDeclaredUsDead(gap, bus_.options().heartbeat_interval,
                                                 bus_.options().dead_timeout)) {
    // They may hold what we held, and told us nothing while we were dead to them.
    EC_LOG(kWarn, "duravip loop stalled; waiting for every peer's report")
        .Field("stalled_ms", gap.count());
    AwaitReportsFromAll();
  }
  size_t seen = 0, needed = 0;
  const bool quorum = HaveQuorum(now, &seen, &needed);
  if (quorum != had_quorum_) {
    if (quorum) {
      EC_LOG(kInfo, "duravip quorum").Field("seen", seen).Field("needed", needed);
      AwaitReportsFromAll();
    } else {
      EC_LOG(kWarn, "duravip quorum lost").Field("seen", seen).Field("needed", needed);
    }
    had_quorum_ = quorum;
  }
  if (!quorum) {
    ReleaseAll("lost quorum");
    last_decisions_ = duravip::Elect(Input(0));
    Publish();
    return;
  }
  if (!held_.empty()) {
    auto fresh = plumbing_->Renew(Lease(bus_.options()));
    if (!fresh.ok()) {
      EC_LOG(kError, "duravip keeper unreachable").Field("error", fresh.status());
      held_.clear();  // the keeper removes everything when we cannot reach it
      UpdateHooks();
      dirty_ = true;
      AwaitReportsFromAll();  // a peer may have taken them while we could not act
    } else if (!*fresh) {
      EC_LOG(kWarn, "duravip lease expired; the keeper removed every address")
          .Field("addresses", Join({held_.begin(), held_.end()}, ","));
      held_.clear();
      UpdateHooks();
      dirty_ = true;
      AwaitReportsFromAll();  // we stalled past the lease: see PeersMayHaveDeclaredUsDead
    }
  }
  size_t budget = 0;
  if (now >= next_balance_) {
    budget = config_.balance_set_size;
    next_balance_ = now + config_.balance_interval;
    // A move is a one-off: once it has happened it lasts only until this balance round.
    for (auto it = overrides_.begin(); it != overrides_.end();) {
      bool done = it->second == bus_.name() ? held_.count(it->first) > 0
                                            : reports_.count(it->second) &&
                                                  reports_.at(it->second).held.count(it->first);
      it = done ? overrides_.erase(it) : std::next(it);
    }
  }
  last_decisions_ = duravip::Elect(Input(budget));
  SendPendingAnnouncements(now);
  bool waiting = WaitingForReports();
  const std::string disagreement = ViewDisagreement();
  if (disagreement != disagreement_) {
    if (!disagreement.empty()) {
      EC_LOG(kInfo, "duravip waiting for views to agree").Field("because", disagreement);
    }
    disagreement_ = disagreement;
  }
  waiting = waiting || !disagreement.empty();
  const std::string& self = bus_.name();
  std::set<std::string> configured;
  for (const duravip::VipDecision& d : last_decisions_) {
    configured.insert(d.address);
    const bool mine = held_.count(d.address) > 0;
    if (d.owner != self) {
      if (mine) Release(d.address, d.owner.empty() ? "no owner" : "elected elsewhere");
      continue;
    }
    if (mine || waiting) continue;
    bool other_holder = false;
    for (const std::string& h : d.holders) other_holder |= h != self;
    if (other_holder) continue;  // it releases first, then we take it
    auto died = holder_died_.find(d.address);
    if (died != holder_died_.end() && now - died->second < config_.if_down_limit) continue;
    Status s = Acquire(d.address);
    if (!s.ok()) EC_LOG(kError, "duravip plumb failed").Field("address", d.address).Field("error", s);
  }
  // Addresses we hold that nobody configures any more (a reload removed them).
  for (const std::string& a : std::set<std::string>(held_)) {
    if (!configured.count(a)) Release(a, "no longer configured");
  }
  Publish();
}

Status DuravipModule::Acquire(const std::string& address) {
  auto fresh = plumbing_->Renew(Lease(bus_.options()));
  if (!fresh.ok()) return fresh.status();
  std::vector<std::string> added;
  for (const std::string& a : Group(address)) {
    const duravip::TopologyEntry* t = config_.TopologyFor(a);
    Status s = t ? plumbing_->Add(a, t->prefix, t->interface)
                 : InvalidArgument(a + " is outside every cluster { Topology }");
    if (!s.ok()) {
      for (const std::string& undo : added) {
        const duravip::TopologyEntry* u = config_.TopologyFor(undo);
        (void)plumbing_->Remove(undo, u->prefix, u->interface);
      }
      return s;
    }
    added.push_back(a);
  }
  held_.insert(address);
  ++takeovers_;
  dirty_ = true;
  // One announcement now, before clients are let in; the rest follow once the listener runs,
  // so the address does not attract connections that find nobody listening.
  for (const std::string& a : added) {
    AnnounceOne(a, 1, "acquired");
    pending_announce_[a] = {kFollowUpAnnouncements, Clock::now() + kFollowUpSpacing};
  }
  // Only now may clients and the binding use it.
  UpdateHooks();
  EC_LOG(kInfo, "duravip acquired").Field("address", address).Field("with", Join(added, ","));
  Publish();
  if (hooks_.on_change) hooks_.on_change();
  return Status::Ok();
}

void DuravipModule::Release(const std::string& address, const char* why) {
  if (!held_.erase(address)) return;
  dirty_ = true;
  // Listeners and the binding stop before the address goes.
  UpdateHooks();
  for (const std::string& a : Group(address)) {
    const duravip::TopologyEntry* t = config_.TopologyFor(a);
    Status s = t ? plumbing_->Remove(a, t->prefix, t->interface)
                 : InvalidArgument(a + " is outside every cluster { Topology }");
    if (!s.ok()) EC_LOG(kError, "duravip unplumb failed").Field("address", a).Field("error", s);
  }
  EC_LOG(kInfo, "duravip released").Field("address", address).Field("reason", why);
  Publish();
  if (hooks_.on_change) hooks_.on_change();
}

void DuravipModule::ReleaseAll(const char* why) {
  for (const std::string& a : std::set<std::string>(held_)) Release(a, why);
}

void DuravipModule::Publish() {
  const auto now = Clock::now();
  if (!dirty_ && now - last_publish_ < kPublishInterval) return;
  duravip::ReportMessage r{.report = SelfReport(), .takeovers = takeovers_, .sees = Sees()};
  Status s = bus_.Shout(group_, duravip::EncodeMessage(r));
  if (!s.ok()) EC_LOG(kWarn, "duravip report not sent").Field("error", s);
  dirty_ = false;
  last_publish_ = now;
}

void DuravipModule::AnnounceOne(const std::string& a, int count, const char* why) {
  const duravip::TopologyEntry* t = config_.TopologyFor(a);
  if (!t) return;
  ArpRecord& r = arp_[a];
  Status s = plumbing_->Announce(a, t->prefix, t->interface, count);
  r.last = std::time(nullptr);
  r.last_why = why;
  r.last_error = s.ok() ? "" : s.message();
  if (s.ok()) {
    r.sent += count;
  } else {
    EC_LOG(kWarn, "duravip announce failed").Field("address", a).Field("error", s);
  }
}

void DuravipModule::AnnounceHeld(const char* why) {
  for (const std::string& address : held_) {
    for (const std::string& a : Group(address)) AnnounceOne(a, config_.arp_count, why);
  }
}

void DuravipModule::SendPendingAnnouncements(Clock::time_point now) {
  std::set<std::string> listen;
  for (const std::string& a : held_) {
    for (const std::string& g : Group(a)) listen.insert(g);
  }
  for (auto it = pending_announce_.begin(); it != pending_announce_.end();) {
    if (!listen.count(it->first) || it->second.remaining <= 0) {
      it = pending_announce_.erase(it);
      continue;
    }
    if (now >= it->second.next) {
      AnnounceOne(it->first, 1, "acquired");
      --it->second.remaining;
      it->second.next = now + kFollowUpSpacing;
    }
    ++it;
  }
}

void DuravipModule::AwaitReportsFromAll() {
  for (const msgc::Member& m : bus_.view().members) {
    if (m.name != bus_.name() && m.state == msgc::PeerState::kAlive) {
      awaiting_report_.try_emplace(m.name, false);
    }
  }
}

bool DuravipModule::WaitingForReports() {
  bool waiting = false;
  for (auto it = awaiting_report_.begin(); it != awaiting_report_.end();) {
    if (!bus_.IsAlive(it->first)) {  // a dead member holds nothing (its keeper saw to it)
      it = awaiting_report_.erase(it);
      continue;
    }
    waiting = true;
    if (!it->second) Query(it->first);
    ++it;
  }
  return waiting;
}

void DuravipModule::Query(const std::string& peer) {
  awaiting_report_[peer] = true;
  std::weak_ptr<bool> alive = alive_;
  bus_.Request(peer, group_, std::string(duravip::kQueryRequest), kQueryTimeout,
               [this, alive, peer](Result<std::string> reply) {
                 if (alive.expired()) return;
                 auto it = awaiting_report_.find(peer);
                 if (it == awaiting_report_.end()) return;
                 if (reply.ok()) {
                   auto decoded = duravip::DecodeMessage(*reply);
                   auto* r = decoded.ok() ? std::get_if<duravip::ReportMessage>(&*decoded)
                                          : nullptr;
                   if (r && r->report.node == peer) {
                     StoreReport(peer, std::move(*r));
                     return;
                   }
                 } else if (reply.status().code() == StatusCode::kFailedPrecondition) {
                   // It answered that it runs no DuraVIP: it holds nothing.
                   reports_.erase(peer);
                   awaiting_report_.erase(it);
                   return;
                 }
                 it->second = false;  // ask again next tick, while it is alive
               });
}

std::vector<std::string> DuravipModule::Sees() const {
  std::vector<std::string> out;
  for (const msgc::Member& m : bus_.view().members) {
    if (m.name != bus_.name() && m.state == msgc::PeerState::kAlive) out.push_back(m.name);
  }
  return out;
}

std::string DuravipModule::ViewDisagreement() const {
  for (const auto& [peer, sees] : peer_sees_) {
    if (!bus_.IsAlive(peer)) continue;
    for (const std::string& m : sees) {
      if (m != bus_.name() && !bus_.IsAlive(m) && bus_.view().Find(m)) return peer + " sees " + m;
    }
  }
  return "";
}

void DuravipModule::StoreReport(const std::string& sender, duravip::ReportMessage r) {
  peer_sees_[sender] = std::move(r.sees);
  peer_takeovers_[sender] = r.takeovers;
  reports_[sender] = std::move(r.report);
  awaiting_report_.erase(sender);
}

void DuravipModule::OnRequest(const msgc::Message& request) {
  if (request.payload != duravip::kQueryRequest) {
    (void)bus_.ReplyError(request, "unknown request on " + group_);
    return;
  }
  duravip::ReportMessage r{.report = SelfReport(), .takeovers = takeovers_, .sees = Sees()};
  (void)bus_.Reply(request, duravip::EncodeMessage(r));
}

void DuravipModule::UpdateHooks() {
  std::set<std::string> listen;
  for (const std::string& a : held_) {
    for (const std::string& g : Group(a)) listen.insert(g);
  }
  std::set<std::string> held_bindings;
  for (const duravip::VipEntry& e : config_.vips) {
    if (e.vip.kind == "binding" && !held_.count(e.vip.address)) held_bindings.insert(e.vip.name);
  }
  const std::vector<std::string> all = config_.Addresses();
  if (hooks_.set_listen_addresses) hooks_.set_listen_addresses({all.begin(), all.end()}, listen);
  if (hooks_.set_held_bindings) hooks_.set_held_bindings(held_bindings);
}

std::map<std::string, std::string> DuravipModule::BindingHolders() const {
  std::map<std::string, std::string> out;
  for (const duravip::VipEntry& e : config_.vips) {
    if (e.vip.kind != "binding") continue;
    std::set<std::string> holders;
    if (held_.count(e.vip.address)) holders.insert(bus_.name());
    for (const auto& [node, report] : reports_) {
      if (node != bus_.name() && bus_.IsAlive(node) && report.held.count(e.vip.address)) {
        holders.insert(node);
      }
    }
    out[e.vip.name] = holders.size() == 1 ? *holders.begin() : "";
  }
  return out;
}

bool DuravipModule::OnMessage(const msgc::Message& message) {
  auto decoded = duravip::DecodeMessage(message.payload);
  if (!decoded.ok()) {
    if (decoded.status().code() == StatusCode::kNotFound) return false;
    EC_LOG(kWarn, "duravip message dropped")
        .Field("from", message.sender)
        .Field("error", decoded.status());
    return true;
  }
  if (auto* r = std::get_if<duravip::ReportMessage>(&*decoded)) {
    // The bus authenticated the sender; a member speaks only for itself.
    if (r->report.node != message.sender) {
      EC_LOG(kWarn, "duravip report dropped: sender speaks for another node")
          .Field("from", message.sender)
          .Field("node", r->report.node);
      return true;
    }
    // A shout may have waited on the link through a partition: only the answer to our query
    // ends a wait (StoreReport), but the latest shout is the best we know meanwhile.
    peer_takeovers_[message.sender] = r->takeovers;
    peer_sees_[message.sender] = std::move(r->sees);
    reports_[message.sender] = std::move(r->report);
  } else if (auto* m = std::get_if<duravip::MoveMessage>(&*decoded)) {
    overrides_[m->address] = m->node;
    EC_LOG(kInfo, "duravip move").Field("address", m->address).Field("to", m->node)
        .Field("from", message.sender);
  } else {
    dirty_ = true;
    Publish();
    AnnounceHeld("announce view");
  }
  return true;
}

void DuravipModule::OnMembership(const msgc::MembershipEvent& event) {
  using K = msgc::MembershipEvent::Kind;
  if (event.kind == K::kDead) {
    auto it = reports_.find(event.peer);
    if (it != reports_.end()) {
      for (const std::string& a : it->second.held) holder_died_[a] = Clock::now();
      reports_.erase(it);
    }
    peer_sees_.erase(event.peer);
    dirty_ = true;  // our view changed: the others read it from our report
  } else if (event.kind == K::kAlive) {
    // A member (re)joined, maybe after a partition healed: it may hold addresses our view
    // thinks free, so wait for its report; and remind the network who has what.
    awaiting_report_[event.peer] = false;
    dirty_ = true;
    AnnounceHeld("member joined");
  }
}

Result<std::string> DuravipModule::Move(const std::string& address, const std::string& node) {
  const duravip::VipDecision* d = nullptr;
  for (const duravip::VipDecision& x : last_decisions_) {
    if (x.address == address) d = &x;
  }
  if (!d) return NotFound("no DuraVIP " + address + " is configured on a live node");
  if (std::find(d->candidates.begin(), d->candidates.end(), node) == d->candidates.end()) {
    return FailedPrecondition(node + " does not configure DuraVIP " + address +
                              " (or is not alive); candidates: " + Join(d->candidates));
  }
  overrides_[address] = node;
  Status s = bus_.Shout(group_, duravip::EncodeMessage(duravip::MoveMessage{address, node}));
  if (!s.ok()) return s;
  return "moving " + address + " to " + node + " until the next balance round\n";
}

std::string DuravipModule::Show() const {
  const auto now = Clock::now();
  size_t seen = 0, needed = 0;
  const bool quorum = HaveQuorum(now, &seen, &needed);
  const msgc::View& view = bus_.view();
  const auto stable =
      std::chrono::duration_cast<std::chrono::seconds>(view.StableFor(now)).count();
  std::ostringstream out;
  out << "View " << view.id << ": stable " << stable << " s, "
      << (bus_.Mature() ? "mature" : "settling") << (participating_ ? "" : ", not yet electing")
      << "; quorum " << seen << "/" << needed << (quorum ? "" : " LOST") << "; members "
      << Join(view.AliveMembers()) << "\n";
  for (const duravip::VipDecision& d : last_decisions_) {
    const bool here = held_.count(d.address) > 0;
    std::string kinds, binding;
    for (const duravip::VipEntry& e : config_.vips) {
      if (e.vip.address != d.address) continue;
      if (e.vip.kind == "binding") binding = e.vip.name;
    }
    out << d.address << " owner " << (d.holders.empty() ? "-" : Join(d.holders, ","))
        << (here ? " *" : "") << " elected " << (d.owner.empty() ? "-" : d.owner)
        << " preference " << (d.preference.empty() ? "-" : d.preference) << " ("
        << (d.holders.empty() ? "unowned" : "owned") << ", " << (d.unsafe ? "UNSAFE" : "safe")
        << ")";
    if (d.conflict) out << " conflict";
    if (d.broken) out << " BROKEN";
    if (!binding.empty()) out << " binding " << binding;
    auto o = overrides_.find(d.address);
    if (o != overrides_.end()) out << " moving-to " << o->second;
    out << " candidates " << Join(d.candidates, ",") << "\n";
  }
  return out.str();
}

void DuravipModule::RegisterCommands(control::CommandRegistry* commands) {
  (void)commands->RegisterSync(
      "cluster duravip show", "every DuraVIP: owner, preference, (owned, safe), states",
      [this](const control::Request&) -> Result<std::string> { return Show(); });
  (void)commands->RegisterSync(
      "cluster duravip move", "cluster duravip move <ip> to <node>: a one-off move",
      [this](const control::Request& r) -> Result<std::string> {
        const auto& w = r.arg_words;
        if (w.size() != 3 || w[1] != "to") {
          return InvalidArgument("usage: cluster duravip move <ip> to <node>");
        }
        return Move(w[0], w[2]);
      });
  (void)commands->RegisterSync(
      "cluster duravip announce view", "every node re-sends its DuraVIP report and ARPs",
      [this](const control::Request&) -> Result<std::string> {
        EC_RETURN_IF_ERROR(bus_.Shout(group_, duravip::EncodeMessage(duravip::AnnounceMessage{})));
        dirty_ = true;
        Publish();
        AnnounceHeld("announce view");
        return std::string("view announced\n");
      });
  (void)commands->RegisterSync(
      "cluster arp show", "gratuitous ARP / NA sent for each DuraVIP this node held",
      [this](const control::Request&) -> Result<std::string> {
        std::ostringstream out;
        for (const auto& [a, r] : arp_) {
          char when[32] = "-";
          if (r.last) {
            std::tm tm{};
            ::localtime_r(&r.last, &tm);
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
          }
          out << a << " sent " << r.sent << " last " << when << " (" << r.last_why << ")"
              << (r.last_error.empty() ? "" : " error: " + r.last_error) << "\n";
        }
        if (arp_.empty()) out << "no announcements yet\n";
        return out.str();
      });
}

}  // namespace ec::mta::cluster
