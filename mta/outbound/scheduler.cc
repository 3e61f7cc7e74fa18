#include "mta/outbound/scheduler.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "common/config/text_util.h"
#include "common/log/logger.h"
#include "mta/bounce/dsn.h"
#include "mta/outbound/scheduler_internal.h"

namespace ec::outbound {
namespace {

// A recipient whose retry time is this close counts as due (timers are not exact).
constexpr int64_t kDueSlackUs = 50000;
constexpr int64_t kStaticRouteCacheUs = 3600 * kSecond;
constexpr int64_t kDnsRouteCacheUs = 60 * kSecond;

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? std::string() : config::ToLower(address.substr(at + 1));
}

void SplitAddress(const std::string& a, std::string* local, std::string* domain) {
  size_t at = a.rfind('@');
  if (at == std::string::npos) {
    *local = a;
    domain->clear();
  } else {
    *local = a.substr(0, at);
    *domain = a.substr(at + 1);
  }
}

ServerReply Reply(int code, std::string enhanced, std::string text) {
  ServerReply r;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.lines.push_back(std::move(text));
  return r;
}

}  // namespace

Scheduler::Scheduler(SchedulerServices services, std::shared_ptr<const config::Config> config,
                     GlobalOutbound global)
    : s_(std::move(services)),
      config_(std::move(config)),
      global_(std::move(global)),
      wake_(*s_.base, [this] { OnWake(); }) {
  if (!global_.bindings) global_.bindings = std::make_shared<BindingTable>();
  if (s_.limits) s_.limits->SetOnCapacity([this] { OnCapacity(); });
}

Scheduler::~Scheduler() {
  *alive_ = false;
  if (s_.limits) s_.limits->SetOnCapacity([] {});  // it outlives us
  // Clients go first: they point into domains_. Transactions in flight are simply abandoned;
  // their recipients are still pending in the spool and are tried again after a restart.
  for (auto& [name, d] : domains_) d.clients.clear();
}

int64_t Scheduler::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Scheduler::Domain& Scheduler::GetDomain(const BindingRef& binding, const std::string& name) {
  auto [it, inserted] = domains_.try_emplace({name, binding.name});
  if (inserted) {
    it->second.name = name;
    it->second.binding = binding;
    it->second.scope = LimitScope{
        .binding = binding.name == kDefaultBinding ? "" : binding.name,
        .binding_group = binding.group,
        .domain = name,
    };
  }
  return it->second;
}

bool Scheduler::Suspended(const Domain& d) const {
  return suspended_.count(d.name) > 0 || held_bindings_.count(d.binding.name) > 0 ||
         (d.policy && d.policy->suspended) ||
         (d.binding.name == kDefaultBinding && global_.bindings->default_suspended());
}

bool Scheduler::BindingFull(const Domain& d) const {
  const int64_t cap = global_.bindings->MaxConnections(d.binding.name);
  if (cap < 0) return false;
  auto it = binding_connections_.find(d.binding.name);
  return it != binding_connections_.end() && static_cast<int64_t>(it->second) >= cap;
}

const DomainPolicy* Scheduler::Policy(Domain& d) {
  if (!d.policy && d.policy_error.ok()) {
    auto p = BuildDomainPolicy(*config_, d.name, global_.hostname, d.binding);
    if (p.ok()) {
      d.policy = std::move(p).value();
    } else {
      d.policy_error = p.status();
      EC_LOG(kError, "outbound policy")
          .Field("domain", d.name)
          .Field("binding", d.binding.name)
          .Field("error", p.status());
    }
  }
  return d.policy.get();
}

void Scheduler::Apply(std::shared_ptr<const config::Config> config, GlobalOutbound global) {
  config_ = std::move(config);
  global_ = std::move(global);
  if (!global_.bindings) global_.bindings = std::make_shared<BindingTable>();
  host_caps_.clear();  // cached per snapshot
  for (auto& [name, d] : domains_) {
    d.policy.reset();
    d.policy_error = Status::Ok();
    d.hops.clear();
    d.hops_expire_us = 0;
  }
  for (auto& [name, d] : domains_) Dispatch(d);
}

void Scheduler::Add(spool::QueueId id, const std::vector<std::string>& rcpts,
                    const std::vector<spool::RecipientState>& states,
                    const BindingAssignment& assigned) {
  std::vector<std::string> domains;
  domains.reserve(rcpts.size());
  for (const std::string& r : rcpts) domains.emplace_back(spool::AddressDomain(r));
  AddByDomain(id, domains, states, assigned);
}

void Scheduler::AddByDomain(spool::QueueId id, std::span<const std::string> rcpt_domains,
                            std::span<const spool::RecipientState> states,
                            const BindingAssignment& assigned) {
  std::map<std::string, int64_t> due;  // domain -> earliest pending recipient
  for (size_t i = 0; i < rcpt_domains.size(); ++i) {
    spool::RecipientState st = i < states.size() ? states[i] : spool::RecipientState{};
    if (st.kind != spool::RecipientState::Kind::kPending) continue;
    std::string domain = config::ToLower(rcpt_domains[i]);
    auto [it, inserted] = due.try_emplace(std::move(domain), st.next_attempt_us);
    if (!inserted) it->second = std::min(it->second, st.next_attempt_us);
  }
  if (due.empty()) {
    // Every recipient is final: a crash came between the last update and the removal.
    (void)s_.spool->Remove(id);
    stats_.messages_removed++;
    return;
  }
  // Only mail for several domains is counted: most has one, and an entry per queued message
  // would cost ~44 bytes each (bench/queue/README.md).
  if (due.size() > 1) {
    open_domains_[id] = static_cast<uint16_t>(std::min<size_t>(due.size(), UINT16_MAX));
  }
  for (auto& [domain, at] : due) {
    Domain& d = GetDomain(global_.bindings->Assign(id, assigned, domain), domain);
    Queue(d, id, at);
    if (!recovering_) Dispatch(d);
  }
}

Status Scheduler::Recover() {
  recovering_ = true;
  std::vector<spool::QueueId> final_ids;
  // The routes come from the spool's own recovery scan: no envelope is read a second time.
  Status s = s_.spool->ForEachRoute([&](spool::QueueId id, const spool::MessageRoute& route,
                                        std::span<const spool::RecipientState> states) {
    bool pending = false;
    for (const auto& st : states) pending |= st.kind == spool::RecipientState::Kind::kPending;
    if (!pending) {
      final_ids.push_back(id);
      return;
    }
    AddByDomain(id, route.rcpt_domains, states, {route.binding, route.binding_group});
  });
  recovering_ = false;
  for (spool::QueueId id : final_ids) {
    (void)s_.spool->Remove(id);
    stats_.messages_removed++;
  }
  EC_LOG(kInfo, "outbound queue recovered")
      .Field("entries", queued())
      .Field("domains", domains_.size())
      .Field("removed", final_ids.size());
  for (auto& [name, d] : domains_) Dispatch(d);
  return s;
}

void Scheduler::Queue(Domain& d, spool::QueueId id, int64_t due_us) {
  if (due_us <= NowUs() + kDueSlackUs) {
    d.ready.push_back(id);
    return;
  }
  delayed_.Push(due_us, &d, id);
  d.delayed++;
  ArmWake();
}

void Scheduler::ArmWake() {
  if (delayed_.empty()) {
    wake_.Stop();
    wake_at_us_ = 0;
    return;
  }
  int64_t at = delayed_.next_due_us();
  if (wake_.IsPending() && wake_at_us_ <= at) return;
  wake_at_us_ = at;
  int64_t delay_ms = std::max<int64_t>(0, (at - NowUs()) / 1000 + 1);
  wake_.Start(std::chrono::milliseconds(delay_ms));
}

void Scheduler::OnWake() {
  wake_at_us_ = 0;
  int64_t now = NowUs();
  std::vector<Domain*> touched;
  while (!delayed_.empty() && delayed_.next_due_us() <= now + kDueSlackUs) {
    auto [due, d, id] = delayed_.Pop();
    if (!MakeReady(*d, id)) continue;
    if (std::find(touched.begin(), touched.end(), d) == touched.end()) touched.push_back(d);
  }
  for (Domain* d : touched) Dispatch(*d);
  ArmWake();
}

void Scheduler::Dispatch(Domain& d) {
  DispatchQueue(d);
  ReportBacklog(d);
}

void Scheduler::DispatchQueue(Domain& d) {
  // A queue a cluster limit refused waits for on_capacity (which takes it out of the set).
  if (stopping_ || d.ready.empty() || waiting_cluster_.count(&d)) return;
  const DomainPolicy* policy = Policy(d);
  if (!policy) {
    FailReady(d, Reply(451, "4.3.5", "configuration error: " + d.policy_error.message()), "", 0);
    return;
  }
  if (Suspended(d)) return;
  // Idle connections take work first.
  for (Client& c : d.clients) {
    if (d.ready.empty()) break;
    if (c.client->ready() && c.client->policy_ptr() == d.policy) {
      if (!SendNext(d, c.client.get())) break;
    }
  }
  const int64_t now = NowUs();
  const int64_t mono = MonoUs();
  while (!d.ready.empty() && d.ready.size() > d.connecting) {
    if (policy->max_connections >= 0 &&
        static_cast<int64_t>(d.clients.size()) >= policy->max_connections) {
      break;
    }
    if (static_cast<int64_t>(connections_) >= global_.server_max_connections) break;
    if (BindingFull(d)) break;
    if (d.hops.empty() || d.hops_expire_us < now) {
      if (d.resolving) break;
      d.resolving = true;
      std::string name = d.name;
      BindingRef binding = d.binding;
      ResolveRoute(
          s_.resolver, *policy, [this, alive = alive_, name, binding](Result<std::vector<Hop>> r) {
            if (!*alive) return;
            Domain& d = GetDomain(binding, name);
            d.resolving = false;
            if (r.ok()) {
              bool dns = !(d.policy && !d.policy->routes.empty());
              for (const RouteTarget& t :
                   d.policy ? d.policy->routes : std::vector<RouteTarget>{}) {
                dns |= t.kind != RouteTarget::Kind::kAddress;
              }
              d.hops = std::move(r).value();
              d.hops_expire_us = NowUs() + (dns ? kDnsRouteCacheUs : kStaticRouteCacheUs);
              // Resolution may have completed inline, inside Dispatch; let that call finish first.
              s_.base->RunInLoop([this, alive = alive_, name, binding] {
                if (*alive) Dispatch(GetDomain(binding, name));
              });
              return;
            }
            EC_LOG(kInfo, "route lookup failed").Field("domain", name).Field("error", r.status());
            // No such domain, or a name that cannot be looked up at all: retrying will not help.
            bool permanent = r.status().code() == StatusCode::kNotFound ||
                             r.status().code() == StatusCode::kInvalidArgument;
            ServerReply reply =
                permanent ? Reply(550, "5.1.2", "no route to " + name + ": " + r.status().message())
                          : Reply(451, "4.4.3",
                                  "route lookup for " + name + " failed: " + r.status().message());
            FailReady(d, reply, "", static_cast<int>(Stage::kConnect));
          });
      break;
    }
    // No more new connections than messages the throttle lets out now: others would idle.
    if (ThrottleFull(d, d.msg_throttle, policy->throttle_messages, mono, d.in_flight)) break;
    if (policy->throttle_messages.count > 0 &&
        d.connecting >= static_cast<uint64_t>(policy->throttle_messages.count) -
                            d.msg_throttle.Count(mono) - d.in_flight) {
      break;
    }
    if (ThrottleFull(d, d.conn_throttle, policy->throttle_connections, mono)) break;
    if (EveryHostFull(d)) {
      waiting_host_.insert(&d);
      break;
    }
    std::unique_ptr<LimitLease> lease;
    if (s_.limits) {
      lease = s_.limits->AcquireConnection(d.scope);
      if (!lease) {
        waiting_cluster_.insert(&d);
        break;
      }
    }
    ThrottleNote(d.conn_throttle, policy->throttle_connections, mono);
    OpenConnection(d, std::move(lease));
  }
}

void Scheduler::OpenConnection(Domain& d, std::unique_ptr<LimitLease> cluster_lease) {
  std::vector<event::SocketAddress> addresses;
  for (const Hop& h : d.hops) addresses.push_back(h.address);
  std::string tls_name = d.hops.empty() ? d.name : d.hops.front().hostname;
  Domain* dp = &d;
  SmtpClient::Callbacks cb;
  cb.on_ready = [this, dp](SmtpClient* c) { OnReady(*dp, c); };
  cb.on_done = [this, dp](SmtpClient* c, Transaction&& tx, TransactionResult&& r) {
    OnDone(*dp, c, std::move(tx), std::move(r));
  };
  cb.on_closed = [this, dp](SmtpClient* c, const Status& why) { OnClosed(*dp, c, why); };
  cb.on_address = [this, dp](const event::SocketAddress& a) { return LeaseHost(*dp, a.host()); };
  Client client;
  client.id = "o" + std::to_string(next_conn_++);
  client.cluster_lease = std::move(cluster_lease);
  client.client = std::make_unique<SmtpClient>(*s_.base, d.policy, std::move(addresses), tls_name,
                                               std::move(cb));
  SmtpClient* raw = client.client.get();
  d.clients.push_back(std::move(client));
  d.connecting++;
  connections_++;
  binding_connections_[d.binding.name]++;
  stats_.connections_opened++;
  stats_.connections_current = connections_;
  raw->Start();
}

void Scheduler::OnReady(Domain& d, SmtpClient* client) {
  bool transaction_ended = false;  // else the connection just became ready
  for (Client& c : d.clients) {
    if (c.client.get() != client) continue;
    transaction_ended = c.became_ready;
    if (!c.became_ready) {
      c.became_ready = true;
      d.connecting--;
    }
  }
  const DomainPolicy& policy = client->policy();
  if (stopping_ || client->policy_ptr() != d.policy ||
      (policy.max_deliveries_per_connection > 0 &&
       static_cast<int64_t>(client->deliveries()) >= policy.max_deliveries_per_connection) ||
      // Another node needs some of this queue's share: give a connection back.
      (transaction_ended && s_.limits && s_.limits->OverShare(d.scope))) {
    client->Quit();
    ReportBacklog(d);
    return;
  }
  if (!SendNext(d, client)) client->Idle();
  ReportBacklog(d);
}

bool Scheduler::SendNext(Domain& d, SmtpClient* client) {
  const config::Rate& rate = client->policy().throttle_messages;
  while (!d.ready.empty()) {
    if (Suspended(d)) return false;
    const int64_t mono = MonoUs();
    if (ThrottleFull(d, d.msg_throttle, rate, mono, d.in_flight)) return false;
    spool::QueueId id = d.ready.front();
    Transaction tx;
    bool expired = false;
    const bool forced = forced_.count(id) > 0;
    d.ready.pop_front();
    if (!BuildTransaction(d, id, &tx, &expired, client->policy().max_recipients_per_batch)) {
      continue;
    }
    std::unique_ptr<LimitLease> lease;
    if (s_.limits && !(lease = s_.limits->AcquireMessage(d.scope))) {
      // Stays first in line; on_capacity dispatches the queue again.
      d.ready.push_front(id);
      if (forced) forced_.insert(id);
      waiting_cluster_.insert(&d);
      return false;
    }
    // The send enters the throttle windows when it ends (OnDone), counted in flight till then.
    for (Client& c : d.clients) {
      if (c.client.get() == client) c.message_lease = std::move(lease);
    }
    d.in_flight++;
    client->Send(std::move(tx));
    return true;
  }
  return false;
}

bool Scheduler::BuildTransaction(Domain& d, spool::QueueId id, Transaction* tx, bool* expired,
                                 size_t cap) {
  if (auto owed = owed_bounces_.find({id, &d}); owed != owed_bounces_.end()) {
    RetryBounce(d, id, owed->second);  // its DSN comes first; the entry returns after it
    return false;
  }
  // The body comes with the envelope in one read: it is nearly always sent next.
  std::string body;
  auto msg = s_.spool->ReadMessage(id, &body);
  if (!msg.ok()) {
    // Deleted meanwhile (console), or unreadable: it stays on disk and comes back at restart.
    if (msg.status().code() != StatusCode::kNotFound) {
      EC_LOG(kError, "cannot read queued message")
          .Field("id", id.ToString())
          .Field("error", msg.status());
      if (s_.logs)
        s_.logs->Panic("cannot read queued message " + id.ToString() + ": " +
                       msg.status().ToString());
    }
    return false;
  }
  const int64_t now = NowUs();
  bool forced = forced_.erase(id) > 0;
  auto message = std::make_shared<spool::SpooledMessage>(std::move(msg).value());
  std::vector<uint32_t> due;
  bool pending = false;
  int64_t next = INT64_MAX;
  bool retried = false;
  for (size_t i = 0; i < message->envelope.rcpts.size(); ++i) {
    const spool::RecipientState& st = message->states[i];
    if (st.kind != spool::RecipientState::Kind::kPending) continue;
    if (DomainOf(message->envelope.rcpts[i].address) != d.name) continue;
    pending = true;
    if (forced || st.next_attempt_us <= now + kDueSlackUs) {
      if (due.size() < cap) {
        due.push_back(static_cast<uint32_t>(i));
        retried |= st.retries > 0;
      } else {
        next = std::min(next, now);
      }
    } else {
      next = std::min(next, st.next_attempt_us);
    }
  }
  if (due.empty()) {
    if (pending) {
      Queue(d, id, next);
    } else {
      DomainDone(id);
    }
    return false;
  }
  tx->id = id;
  tx->mail_from = message->envelope.mail_from;
  tx->eightbit = message->envelope.body_type != spool::BodyType::k7Bit;
  for (uint32_t i : due) {
    tx->rcpts.push_back(message->envelope.rcpts[i].address);
    tx->rcpt_index.push_back(i);
  }
  tx->data = std::move(body);
  tx->message = std::move(message);
  // Past its lifetime after at least one failed attempt: fail it without another try.
  const DomainPolicy* policy = d.policy.get();
  if (policy && retried && !forced &&
      tx->message->envelope.received_us + policy->message_expiration.count() * kSecond <= now) {
    *expired = true;
    TransactionResult r;
    r.rcpt.assign(tx->rcpts.size(), Reply(554, "5.4.7", "message expired in the queue"));
    r.stage.assign(tx->rcpts.size(), Stage::kConnect);
    r.connection_failure = true;
    Settle(d, *tx, r, "", "", true);
    return false;
  }
  return true;
}

void Scheduler::OnDone(Domain& d, SmtpClient* client, Transaction&& tx,
                       TransactionResult&& result) {
  if (d.in_flight > 0) d.in_flight--;
  // The receiver has answered (or the connection ended): the send counts from now, so no
  // window at the receiver holds more than the throttle, whatever the transaction's latency.
  ThrottleNote(d.msg_throttle, client->policy().throttle_messages, MonoUs());
  std::string conn_id;
  for (Client& c : d.clients) {
    if (c.client.get() != client) continue;
    conn_id = c.id;
    c.message_lease.reset();
  }
  Settle(d, tx, result, conn_id, client->remote(), true);
}

void Scheduler::Settle(Domain& d, Transaction& tx, const TransactionResult& result,
                       const std::string& conn_id, const std::string& remote, bool allow_bounce) {
  spool::SpooledMessage& msg = *tx.message;
  const DomainPolicy* policy = d.policy.get();
  if (!policy) policy = Policy(d);
  const int64_t now = NowUs();
  const std::time_t now_s = static_cast<std::time_t>(now / kSecond);
  const double age = static_cast<double>(now - msg.envelope.received_us) / 1e6;
  const int64_t expiry =
      msg.envelope.received_us + (policy ? policy->message_expiration.count() : 86400) * kSecond;
  std::vector<spool::RecipientUpdate> updates;
  std::vector<std::pair<uint32_t, Outcome>> failed;
  std::vector<std::pair<uint32_t, std::string>> relayed;  // (index, the accepting reply)
  for (size_t k = 0; k < tx.rcpts.size() && k < result.rcpt.size(); ++k) {
    const uint32_t idx = tx.rcpt_index[k];
    const ServerReply& reply = result.rcpt[k];
    const int stage = static_cast<int>(result.stage[k]);
    spool::RecipientState st = msg.states[idx];
    const int retries = static_cast<int>(st.retries);
    std::string batch = std::to_string(idx);
    if (reply.positive()) {
      st.kind = spool::RecipientState::Kind::kDone;
      // RFC 3461: a server without DSN never reports success, so we report "relayed".
      if (!result.dsn_supported && (msg.envelope.rcpts[idx].notify & spool::kNotifySuccess)) {
        relayed.emplace_back(idx, reply.ToString());
      }
      stats_.delivered++;
      d.delivered++;
      if (s_.logs) {
        s_.logs->Delivery(mta::DeliveryRecord{.time = now_s,
                                              .message_id = tx.id.ToString(),
                                              .batch_id = batch,
                                              .connection_id = conn_id,
                                              .domain = d.name,
                                              .size = tx.data.size(),
                                              .binding_group = d.binding.group,
                                              .binding = d.binding.name,
                                              .retries = retries,
                                              .seconds_since_reception = age,
                                              .remote_ip = remote});
      }
    } else {
      bool permanent = reply.permanent();
      bool expired = reply.enhanced == "5.4.7";
      if (!permanent) {
        st.retries++;
        int64_t at = now + (policy ? policy->RetryDelay(st.retries).count() : 1200) * kSecond;
        if ((policy && policy->never_retry) || now >= expiry) {
          permanent = true;
          expired = now >= expiry;
        } else {
          st.next_attempt_us = std::min(at, std::max(expiry, now + kSecond));
        }
      }
      if (s_.logs) {
        s_.logs->Failure(mta::FailureRecord{.time = now_s,
                                            .message_id = tx.id.ToString(),
                                            .batch_id = batch,
                                            .connection_id = conn_id,
                                            .permanent = permanent,
                                            .domain = d.name,
                                            .bytes_transferred = result.bytes_sent,
                                            .binding_group = d.binding.group,
                                            .binding = d.binding.name,
                                            .stage = stage,
                                            .retries = retries,
                                            .seconds_since_reception = age,
                                            .remote_ip = remote,
                                            .response = reply.ToString()});
      }
      if (permanent) {
        st.kind = spool::RecipientState::Kind::kFailed;
        stats_.permanent++;
        d.permanent++;
        failed.push_back({idx, Outcome{reply, stage, expired}});
      } else {
        stats_.transient++;
        d.transient++;
      }
    }
    msg.states[idx] = st;
    updates.push_back(spool::RecipientUpdate{.index = idx, .state = st});
  }
  // A null sender (a bounce itself) never gets a bounce.
  const bool bounce = allow_bounce && policy && policy->generate_bounces &&
                      !msg.envelope.mail_from.empty() && (!failed.empty() || !relayed.empty());
  std::shared_ptr<OwedBounce> owed;
  if (bounce) {
    owed = std::make_shared<OwedBounce>();
    // The failed recipients stay pending in the spool until their DSN is durable.
    auto is_failed = [](const spool::RecipientUpdate& u) {
      return u.state.kind == spool::RecipientState::Kind::kFailed;
    };
    std::copy_if(updates.begin(), updates.end(), std::back_inserter(owed->final_states), is_failed);
    std::erase_if(updates, is_failed);
  }
  // A message whose every recipient is now final, for its only domain, is removed next
  // (Requeue, DomainDone): its Remove record says all the Update would, one record fewer per
  // delivered message. A crash before the Remove is durable repeats the delivery either way.
  const bool removed_next =
      (!owed || owed->final_states.empty()) && !open_domains_.contains(tx.id) &&
      std::none_of(msg.states.begin(), msg.states.end(), [](const spool::RecipientState& st) {
        return st.kind == spool::RecipientState::Kind::kPending;
      });
  if (!updates.empty() && !removed_next) {
    Status s = s_.spool->Update(tx.id, std::move(updates));
    if (!s.ok()) {
      EC_LOG(kError, "spool update failed").Field("id", tx.id.ToString()).Field("error", s);
    }
  }
  if (!failed.empty() && policy) {
    if (s_.logs) {
      std::string sl, sd;
      SplitAddress(msg.envelope.mail_from, &sl, &sd);
      for (const auto& [idx, o] : failed) {
        mta::BounceRecord b{.time = now_s,
                            .message_id = tx.id.ToString(),
                            .batch_id = std::to_string(idx),
                            .connection_id = conn_id};
        SplitAddress(msg.envelope.rcpts[idx].address, &b.rcpt_localpart, &b.rcpt_domain);
        b.sender_localpart = sl;
        b.sender_domain = sd;
        b.binding_group = d.binding.group;
        b.binding = d.binding.name;
        b.stage = o.stage;
        b.bounce_class =
            bounce::BounceClass(o.reply.code, o.reply.enhanced, o.reply.ToString(), o.expired);
        b.size = tx.data.size();
        b.remote_ip = remote;
        b.response = o.reply.ToString();
        s_.logs->Bounce(b);
      }
    }
  }
  if (owed) {
    owed->failed = std::move(failed);
    owed->relayed = std::move(relayed);
    owed->remote = remote;
    const bool waits = !owed->final_states.empty();
    QueueBounce(d, tx.message, tx.data, std::move(owed));
    if (waits) return;  // BounceWritten settles this domain's entry
  }
  Requeue(d, tx.id, msg);
}

void Scheduler::Requeue(Domain& d, spool::QueueId id, const spool::SpooledMessage& msg) {
  bool pending = false;
  int64_t next = INT64_MAX;
  for (size_t i = 0; i < msg.envelope.rcpts.size(); ++i) {
    if (msg.states[i].kind != spool::RecipientState::Kind::kPending) continue;
    if (DomainOf(msg.envelope.rcpts[i].address) != d.name) continue;
    pending = true;
    next = std::min(next, msg.states[i].next_attempt_us);
  }
  if (pending) {
    Queue(d, id, next);
  } else {
    DomainDone(id);
  }
}

void Scheduler::DomainDone(spool::QueueId id) {
  auto it = open_domains_.find(id);
  if (it != open_domains_.end()) {
    if (--it->second > 0) return;
    open_domains_.erase(it);
  }
  Status s = s_.spool->Remove(id);
  if (s.code() == StatusCode::kNotFound) return;  // settled before: already gone
  if (!s.ok()) EC_LOG(kError, "spool remove failed").Field("id", id.ToString()).Field("error", s);
  stats_.messages_removed++;
}

void Scheduler::FailReady(Domain& d, const ServerReply& reply, const std::string& remote,
                          int stage) {
  // Each message settles once per call; transient ones move to the delayed set.
  size_t n = d.ready.size();
  for (size_t i = 0; i < n && !d.ready.empty(); ++i) {
    spool::QueueId id = d.ready.front();
    d.ready.pop_front();
    Transaction tx;
    bool expired = false;
    if (!BuildTransaction(d, id, &tx, &expired, SIZE_MAX)) continue;
    TransactionResult r;
    r.rcpt.assign(tx.rcpts.size(), reply);
    r.stage.assign(tx.rcpts.size(), static_cast<Stage>(stage));
    r.connection_failure = true;
    Settle(d, tx, r, "", remote, true);
  }
  ReportBacklog(d);
}

void Scheduler::OnClosed(Domain& d, SmtpClient* client, const Status& why) {
  auto it = std::find_if(d.clients.begin(), d.clients.end(),
                         [client](const Client& c) { return c.client.get() == client; });
  if (it == d.clients.end()) return;
  bool was_ready = client->was_ready();
  std::string remote = client->remote();
  if (!it->became_ready) d.connecting--;
  // Every address was at its limit: not a failure; the queue waits for one to free up.
  const bool addresses_full = !was_ready && client->addresses_full();
  // We are inside the client's own callback: destroy it on a later loop turn.
  std::shared_ptr<SmtpClient> doomed(std::move(it->client));
  s_.base->RunInLoop([doomed] {});
  d.clients.erase(it);
  const bool was_full =
      static_cast<int64_t>(connections_) >= global_.server_max_connections || BindingFull(d);
  connections_--;
  if (--binding_connections_[d.binding.name] == 0) binding_connections_.erase(d.binding.name);
  stats_.connections_current = connections_;
  if (!was_ready && !why.ok() && !addresses_full) {
    stats_.connection_failures++;
    d.hops_expire_us = 0;  // look the route up again next time
    if (d.clients.empty()) {
      FailReady(d, Reply(451, "4.4.1", why.message()), remote,
                static_cast<int>(client->failed_stage()));
    }
  }
  // A queue refused for a full address waits (in waiting_host_ or waiting_cluster_) unless
  // an address freed up meanwhile; dispatching it again at once would only spin.
  if (addresses_full && EveryHostFull(d)) {
    waiting_host_.insert(&d);
    ReportBacklog(d);
  } else if (addresses_full && d.host_refused_by_cluster &&
             d.host_refused_at_capacity == capacity_events_) {
    // No on_capacity since the refusal (one since would have found the queue not waiting yet).
    d.host_refused_by_cluster = false;
    waiting_cluster_.insert(&d);
    ReportBacklog(d);
  } else {
    Dispatch(d);
  }
  if (was_full) {
    for (auto& [key, other] : domains_) {
      if (&other != &d && !other.ready.empty()) Dispatch(other);
    }
  }
}

void Scheduler::Stop() {
  stopping_ = true;
  wake_.Stop();
  for (auto& [name, d] : domains_) {
    for (Client& c : d.clients) {
      if (c.client->ready()) c.client->Quit();
    }
  }
}

size_t Scheduler::queued() const {
  size_t n = delayed_.size();
  for (const auto& [name, d] : domains_) n += d.ready.size() + d.in_flight;
  return n;
}

std::string Scheduler::QueueSummary() const {
  std::ostringstream out;
  size_t ready = 0, delayed = 0, active = 0;
  for (const auto& [key, d] : domains_) {
    const bool suspended = Suspended(d);
    if (d.ready.empty() && d.delayed == 0 && d.in_flight == 0 && d.clients.empty() && !suspended) {
      continue;
    }
    out << (d.name.empty() ? "(none)" : d.name) << " binding=" << d.binding.name
        << " ready=" << d.ready.size() << " delayed=" << d.delayed << " active=" << d.in_flight
        << " connections=" << d.clients.size() << " delivered=" << d.delivered
        << " transient=" << d.transient << " permanent=" << d.permanent
        << (suspended ? " suspended" : "") << "\n";
    ready += d.ready.size();
    delayed += d.delayed;
    active += d.in_flight;
  }
  out << "Total: ready=" << ready << " delayed=" << delayed << " active=" << active
      << " connections=" << connections_ << "\n";
  return out.str();
}

size_t Scheduler::RetryNow(const std::string& domain) {
  std::string want = config::ToLower(domain);
  // Taken out first: a DSN retried below that fails again goes back into delayed_.
  auto due =
      delayed_.RemoveIf([&want](const auto& e) { return want.empty() || e.queue->name == want; });
  std::vector<Domain*> touched;
  for (auto [at, d, id] : due) {
    if (!MakeReady(*d, id)) continue;
    forced_.insert(id);
    if (std::find(touched.begin(), touched.end(), d) == touched.end()) touched.push_back(d);
  }
  const size_t moved = due.size();
  for (Domain* d : touched) {
    d->hops_expire_us = 0;
    Dispatch(*d);
  }
  ArmWake();
  return moved;
}

Status Scheduler::Suspend(const std::string& domain, bool suspended) {
  std::string name = config::ToLower(domain);
  if (name.empty()) return InvalidArgument("which domain?");
  if (suspended) {
    suspended_.insert(name);
    // Shown by mailq even before the domain has mail.
    GetDomain(global_.bindings->Assign(spool::QueueId(), {}, name), name);
    return Status::Ok();
  }
  suspended_.erase(name);
  for (auto& [key, d] : domains_) {
    if (d.name == name) Dispatch(d);
  }
  return Status::Ok();
}

void Scheduler::SetHeldBindings(std::set<std::string> bindings) {
  if (bindings == held_bindings_) return;
  held_bindings_ = std::move(bindings);
  for (auto& [key, d] : domains_) {
    if (!held_bindings_.count(d.binding.name)) Dispatch(d);
  }
}

std::vector<std::pair<spool::QueueId, std::string>> Scheduler::HeldMessages(size_t max) const {
  struct Seen {
    const std::string* binding = nullptr;
    size_t entries = 0;
    bool mixed = false;  // open in two held bindings: not one move
  };
  if (held_bindings_.empty()) return {};
  std::map<spool::QueueId, Seen> seen;
  auto note = [&seen](const Domain& d, spool::QueueId id) {
    Seen& s = seen[id];
    if (s.binding && *s.binding != d.binding.name) s.mixed = true;
    s.binding = &d.binding.name;
    ++s.entries;
  };
  size_t held_delayed = 0;  // the delayed walk stops once it has seen all of these
  for (const auto& [key, d] : domains_) {
    if (!held_bindings_.count(d.binding.name)) continue;
    for (spool::QueueId id : d.ready) note(d, id);
    held_delayed += d.delayed;
  }
  delayed_.ForEach([&](const auto& e) {
    if (held_delayed == 0) return false;
    if (!held_bindings_.count(e.queue->binding.name)) return true;
    note(*e.queue, e.id);
    --held_delayed;
    return true;
  });
  std::vector<std::pair<spool::QueueId, std::string>> out;
  for (const auto& [id, s] : seen) {
    if (out.size() >= max) break;
    auto open = open_domains_.find(id);
    const size_t domains = open == open_domains_.end() ? 1 : open->second;
    auto owed = owed_bounces_.lower_bound({id, nullptr});
    const bool owes = owed != owed_bounces_.end() && owed->first.first == id;
    // Fewer entries than open domains: another domain is in a delivery attempt or not held.
    if (s.mixed || owes || s.entries != domains) continue;
    out.emplace_back(id, *s.binding);
  }
  return out;
}

void Scheduler::Withdraw(const std::set<spool::QueueId>& ids) {
  if (ids.empty()) return;
  for (auto& [key, d] : domains_) {
    const size_t before = d.ready.size();
    std::erase_if(d.ready, [&ids](spool::QueueId id) { return ids.count(id) > 0; });
    if (d.ready.size() != before) ReportBacklog(d);
  }
  for (const auto& e : delayed_.RemoveIf([&ids](const auto& e) { return ids.count(e.id) > 0; })) {
    e.queue->delayed--;
  }
  for (spool::QueueId id : ids) {
    open_domains_.erase(id);
    forced_.erase(id);
  }
  ArmWake();
}

Result<size_t> Scheduler::Drop(const std::string& domain, bool bounce) {
  std::string name = config::ToLower(domain);
  size_t n = 0;
  bool found = false;
  for (auto& [key, d] : domains_) {
    if (name.empty() || d.name != name) continue;
    found = true;
    n += DropQueue(d, bounce);
  }
  if (!found) return NotFound("no queue for domain \"" + domain + "\"");
  return n;
}

size_t Scheduler::DropQueue(Domain& d, bool bounce) {
  std::vector<spool::QueueId> ids(d.ready.begin(), d.ready.end());
  d.ready.clear();
  for (const auto& e : delayed_.RemoveIf([&d](const auto& e) { return e.queue == &d; })) {
    ids.push_back(e.id);
    d.delayed--;
  }
  ArmWake();
  size_t n = 0;
  const ServerReply reply =
      Reply(550, "5.0.0", "message deleted from the queue by the administrator");
  for (spool::QueueId id : ids) {
    forced_.insert(id);
    Transaction tx;
    bool expired = false;
    if (!BuildTransaction(d, id, &tx, &expired, SIZE_MAX)) continue;
    TransactionResult r;
    r.rcpt.assign(tx.rcpts.size(), reply);
    r.stage.assign(tx.rcpts.size(), Stage::kConnect);
    Settle(d, tx, r, "", "", bounce);
    ++n;
  }
  ReportBacklog(d);
  return n;
}

void Scheduler::RegisterCommands(control::CommandRegistry* commands) {
  (void)commands->RegisterSync(
      "mailq", "outbound queue per domain (ready, delayed, active)",
      [this](const control::Request&) -> Result<std::string> { return QueueSummary(); });
  (void)commands->RegisterSync("retry", "retry [domain]: deliver delayed messages now",
                               [this](const control::Request& r) -> Result<std::string> {
                                 std::string domain = r.arg_words.empty() ? "" : r.arg_words[0];
                                 return std::to_string(RetryNow(domain)) +
                                        " messages scheduled for delivery now";
                               });
  // suspend, resume, delete and bounce take one domain; the usage error is the same for all.
  auto domain_command = [commands](const char* name, const char* help, auto run) {
    (void)commands->RegisterSync(
        name, std::string(name) + " <domain>: " + help,
        [name, run](const control::Request& r) -> Result<std::string> {
          if (r.arg_words.empty())
            return InvalidArgument(std::string("usage: ") + name + " <domain>");
          return run(r.arg_words[0]);
        });
  };
  domain_command("suspend", "hold its outbound mail",
                 [this](const std::string& d) -> Result<std::string> {
                   EC_RETURN_IF_ERROR(Suspend(d, true));
                   return "suspended " + d;
                 });
  domain_command("resume", "deliver its mail again",
                 [this](const std::string& d) -> Result<std::string> {
                   EC_RETURN_IF_ERROR(Suspend(d, false));
                   return "resumed " + d;
                 });
  domain_command("delete", "drop its queued mail without bounces",
                 [this](const std::string& d) -> Result<std::string> {
                   EC_ASSIGN_OR_RETURN(size_t n, Drop(d, false));
                   return std::to_string(n) + " messages deleted";
                 });
  domain_command("bounce", "fail its queued mail back to the senders",
                 [this](const std::string& d) -> Result<std::string> {
                   EC_ASSIGN_OR_RETURN(size_t n, Drop(d, true));
                   return std::to_string(n) + " messages bounced";
                 });
}

}  // namespace ec::outbound
