// Scheduler: ecmta's outbound side. Keeps one queue per binding and destination domain, opens
// SMTP connections within the queue's, the binding's and the node's limits
// (Max_Outbound_Connections, Server_Max_Outbound_Connections, outbound_throttle_*), from the
// binding's source address, hands each ready connection the next
// message, and records every recipient's outcome in the spool: delivered (D), retried with
// back-off (T), or failed for good (P) with a DSN to the sender and a bouncelog line. A failed
// recipient becomes final only once its DSN is durable in the spool; while the DSN cannot be
// written the original stays queued and the DSN is retried. A message leaves the spool only when
// its last recipient is final.
//
// Memory: the index holds queue ids and small per-domain bookkeeping; envelopes and bodies are
// read from the spool when a connection is ready for them.
//
// Ownership and threads: owned by MtaDaemon; the spool, logs and resolver outlive it.
// Everything runs on the loop thread, including the spool's callbacks (posted there).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/base/sliding_window.h"
#include "common/config/tree.h"
#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/dns/resolver.h"
#include "mta/logs/mta_logs.h"
#include "mta/outbound/binding.h"
#include "mta/outbound/delayed_queue.h"
#include "mta/outbound/domain_policy.h"
#include "mta/outbound/outbound_limits.h"
#include "mta/outbound/router.h"
#include "mta/outbound/smtp_client.h"
#include "mta/spool/spool.h"

namespace ec::outbound {

struct SchedulerServices {
  event::EventBase* base = nullptr;
  spool::Spool* spool = nullptr;
  mta::MtaLogs* logs = nullptr;       // may be null
  dns::Resolver* resolver = nullptr;  // may be null: only IP-literal routes work then
  OutboundLimits* limits = nullptr;   // cluster-wide limits; null: none (outlives us)
  std::string node_name;
};

struct SchedulerStats {
  uint64_t delivered = 0;  // recipients
  uint64_t transient = 0;
  uint64_t permanent = 0;
  uint64_t bounces = 0;  // DSNs queued
  uint64_t connections_opened = 0;
  uint64_t connection_failures = 0;
  uint64_t connections_current = 0;
  uint64_t messages_removed = 0;
};

class Scheduler {
 public:
  Scheduler(SchedulerServices services, std::shared_ptr<const config::Config> config,
            GlobalOutbound global);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // A message now in the spool: `rcpts` are its envelope recipients, `states` their current
  // states (empty: all pending), `assigned` the binding its envelope names (if any).
  // Recipients already final are skipped.
  void Add(spool::QueueId id, const std::vector<std::string>& rcpts,
           const std::vector<spool::RecipientState>& states = {},
           const BindingAssignment& assigned = {});
  // Queues everything the spool holds (at start).
  Status Recover();
  // A new config snapshot: policies are rebuilt as domains are next used.
  void Apply(std::shared_ptr<const config::Config> config, GlobalOutbound global);
  // Stops opening connections and says QUIT on idle ones (shutdown).
  void Stop();

  // Console.
  void RegisterCommands(control::CommandRegistry* commands);
  std::string QueueSummary() const;  // one line per domain and binding
  // The commands below act on the domain's queues in every binding.
  size_t RetryNow(const std::string& domain);  // "" = every domain; returns messages moved
  Status Suspend(const std::string& domain, bool suspended);
  // DuraVIP: bindings whose address another node owns now; their mail waits here until the
  // mover (mta/mmove/mover.h) hands it to the holder, or the address comes back.
  void SetHeldBindings(std::set<std::string> bindings);
  // #mmove: up to `max` messages whose every open domain waits in one held binding's queue
  // (ready or delayed; none in a delivery attempt or owing a DSN), with that binding, by id.
  std::vector<std::pair<spool::QueueId, std::string>> HeldMessages(size_t max) const;
  // #mmove: takes messages out of every queue (ready or delayed), to move them: ones
  // HeldMessages gave in this same loop turn, or (at start) ones whose move is in doubt. The
  // spool copy is the caller's. Add() queues one again (a move that failed).
  void Withdraw(const std::set<spool::QueueId>& ids);
  // Drops a domain's queued messages (bounce: with a DSN to each sender); returns how many.
  Result<size_t> Drop(const std::string& domain, bool bounce);

  SchedulerStats stats() const { return stats_; }
  size_t queued() const;  // (message, domain) entries waiting: ready + delayed
  size_t connections() const { return connections_; }

 private:
  struct Domain;
  struct Client {
    std::unique_ptr<SmtpClient> client;
    std::string id;  // connection id in logs
    bool became_ready = false;
    std::unique_ptr<LimitLease> cluster_lease;  // AcquireConnection's; released when closed
    std::unique_ptr<LimitLease> message_lease;  // AcquireMessage's; released when the tx ends
  };
  // One queue: mail for domain `name` leaving through `binding`.
  struct Domain {
    std::string name;
    BindingRef binding;
    std::shared_ptr<const DomainPolicy> policy;
    Status policy_error;
    std::deque<spool::QueueId> ready;
    size_t delayed = 0;
    size_t in_flight = 0;
    std::list<Client> clients;
    size_t connecting = 0;  // clients not ready yet
    // Routing cache.
    std::vector<Hop> hops;
    int64_t hops_expire_us = 0;
    bool resolving = false;
    LimitScope scope;             // for s_.limits
    size_t reported_backlog = 0;  // the last SetBacklog
    bool host_refused_by_cluster = false;  // the last AcquireHost said no
    uint64_t host_refused_at_capacity = 0;  // capacity_events_ then
    // Throttles (outbound_throttle_*): sliding logs of sends and connections, steady clock.
    SlidingWindow msg_throttle{1000000};
    SlidingWindow conn_throttle{1000000};
    std::unique_ptr<event::Timer> throttle_timer;
    int64_t throttle_at_us = 0;  // when the pending timer fires
    uint64_t delivered = 0, transient = 0, permanent = 0;
  };
  struct Outcome;
  struct OwedBounce;
  // A Host-scope max_outbound_connections: the cap and which connections count against it.
  struct HostCap {
    int64_t cap = -1;     // -1: none set in a host scope
    std::string counter;  // key in host_connections_
  };
  class HostLease;

  // Add, given each recipient's domain as its address spells it (spool::AddressDomain).
  void AddByDomain(spool::QueueId id, std::span<const std::string> rcpt_domains,
                   std::span<const spool::RecipientState> states,
                   const BindingAssignment& assigned);
  Domain& GetDomain(const BindingRef& binding, const std::string& name);
  bool Suspended(const Domain& d) const;
  bool BindingFull(const Domain& d) const;
  size_t DropQueue(Domain& d, bool bounce);
  const DomainPolicy* Policy(Domain& d);
  void Queue(Domain& d, spool::QueueId id, int64_t due_us);
  void Dispatch(Domain& d);
  void DispatchQueue(Domain& d);
  void OpenConnection(Domain& d, std::unique_ptr<LimitLease> cluster_lease);
  // Limits (scheduler_limits.cc). True when the throttle admits nothing now; the throttle
  // timer then dispatches the queue again when its oldest unit leaves the window.
  // `in_flight`: units taken whose send has not ended yet (they enter the window when it does).
  bool ThrottleFull(Domain& d, SlidingWindow& window, const config::Rate& rate, int64_t now_us,
                    uint64_t in_flight = 0);
  void ThrottleNote(SlidingWindow& window, const config::Rate& rate, int64_t now_us);
  const HostCap& HostCapFor(const Domain& d, const std::string& ip);
  bool HostFull(const Domain& d, const std::string& ip);
  bool EveryHostFull(const Domain& d);
  // SmtpClient's on_address: a node-local (and cluster) hold on `ip`, or null when full.
  std::unique_ptr<LimitLease> LeaseHost(Domain& d, const std::string& ip);
  void HostReleased();
  void OnCapacity();
  void DispatchWaiting(std::set<Domain*>* waiting);
  void ReportBacklog(Domain& d);
  int64_t MonoUs() const;
  // Gives the client its next message; false if there was none to give.
  bool SendNext(Domain& d, SmtpClient* client);
  // Reads the message and builds a transaction of the domain's due recipients; false (and the
  // message's domain entry settled) when there is nothing to send.
  bool BuildTransaction(Domain& d, spool::QueueId id, Transaction* tx, bool* expired, size_t cap);
  void OnReady(Domain& d, SmtpClient* client);
  void OnDone(Domain& d, SmtpClient* client, Transaction&& tx, TransactionResult&& result);
  void OnClosed(Domain& d, SmtpClient* client, const Status& why);
  // Every ready message of the domain fails with `reply` (transient unless permanent).
  void FailReady(Domain& d, const ServerReply& reply, const std::string& remote, int stage);
  void Settle(Domain& d, Transaction& tx, const TransactionResult& result,
              const std::string& conn_id, const std::string& remote, bool allow_bounce);
  // Submits the DSN `owed` describes for message `msg` (body `data`); BounceWritten follows.
  void QueueBounce(Domain& d, std::shared_ptr<spool::SpooledMessage> msg, const std::string& data,
                   std::shared_ptr<OwedBounce> owed);
  // The DSN is durable (`written` ok): the failed recipients become final. Or it is not: they
  // stay pending and the DSN is retried after a delay.
  void BounceWritten(Domain& d, spool::QueueId id, std::shared_ptr<spool::SpooledMessage> msg,
                     std::shared_ptr<OwedBounce> owed, const Status& written);
  void RetryBounce(Domain& d, spool::QueueId id, std::shared_ptr<OwedBounce> owed);
  // Queues the message again for its pending recipients in `d`, or closes its entry there.
  void Requeue(Domain& d, spool::QueueId id, const spool::SpooledMessage& msg);
  // A delayed entry is due: back to the ready queue (true), or its owed DSN is retried.
  bool MakeReady(Domain& d, spool::QueueId id);
  void DomainDone(spool::QueueId id);
  void ArmWake();
  void OnWake();
  int64_t NowUs() const;

  SchedulerServices s_;
  std::shared_ptr<const config::Config> config_;
  GlobalOutbound global_;
  // (domain, binding) -> queue; stable addresses; sorted for the console.
  std::map<std::pair<std::string, std::string>, Domain> domains_;
  std::map<std::string, size_t> binding_connections_;
  // Host scopes: caps per (binding, address) for config_, and connections per address counted
  // three ways ("ip", "g:<group>|ip", "b:<binding>|ip") for the levels a cap may be set at.
  std::map<std::pair<std::string, std::string>, HostCap> host_caps_;
  std::map<std::string, size_t> host_connections_;
  // Queues waiting for capacity: every address full here (dispatched again when a connection
  // to an address closes), or refused by a cluster limit (dispatched again on on_capacity).
  std::set<Domain*> waiting_host_;
  std::set<Domain*> waiting_cluster_;
  bool host_dispatch_posted_ = false;
  bool capacity_dispatch_posted_ = false;
  uint64_t capacity_events_ = 0;  // on_capacity calls so far
  std::set<std::string> suspended_;  // domains, by the console
  std::set<std::string> held_bindings_;  // DuraVIP bindings owned by another node
  // (message, domain) entries waiting for their retry time.
  DelayedQueue<Domain> delayed_;
  // Domains still open, for messages to more than one domain; the message is removed when this
  // reaches zero (at once when it has no entry).
  std::unordered_map<spool::QueueId, uint16_t> open_domains_;
  event::Timer wake_;
  int64_t wake_at_us_ = 0;
  size_t connections_ = 0;
  uint64_t next_conn_ = 1;
  bool stopping_ = false;
  bool recovering_ = false;
  std::unordered_set<spool::QueueId> forced_;  // `retry`: due whatever their retry time
  // (message, domain) entries whose DSN could not be written yet; their entry waits in delayed_
  // for the DSN's next try.
  std::map<std::pair<spool::QueueId, const Domain*>, std::shared_ptr<OwedBounce>> owed_bounces_;
  SchedulerStats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ec::outbound
