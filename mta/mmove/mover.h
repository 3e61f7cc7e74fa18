// Mover: ecmta's side of #mmove that hands mail out (docs/mmove.md). Each round (every
// `interval`, and at once when the DuraVIP view changes) it takes the scheduler's held DuraVIP
// mail (Scheduler::HeldMessages: nothing in a delivery attempt), asks PlanMoves which of it goes
// to which node with the DuraVIP module's view of who holds each binding's address, withdraws
// those messages from the scheduler and moves them on its worker thread (SendMove blocks; the
// loop never does). Back on the loop, a moved message gets its X lines and leaves the spool
// (FinishMoved, only after the receiver's "stored" or "dup"); one that did not move goes back
// to the scheduler, and its node is left alone for a short while. A move whose commit went out
// unanswered is in doubt (the receiver may have stored it): noted durably before the commit
// (MovedOutLog), it is moved again to that node only, never delivered here, until that node
// answers "stored" or "dup", or the operator releases it (Release: that node is gone for
// good). When an address moves, the next round finds its binding's queue
// placed elsewhere and sends it to the new holder.
// Owned by MtaDaemon; loop thread only, apart from the worker.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "msgc/bus_config.h"
#include "mta/logs/mta_logs.h"
#include "mta/mmove/move_decision.h"
#include "mta/mmove/move_sender.h"
#include "mta/mmove/moved_out_log.h"
#include "mta/outbound/scheduler.h"
#include "mta/spool/spool.h"

namespace ec::mmove {

// Who may be handed mail, as the cluster configuration says: the bus keys and each peer's
// ECCluster listener ("host:port").
struct MoverPeers {
  msgc::CurveOptions curve;
  std::map<std::string, std::string> endpoints;  // node -> endpoint, self excluded
};

// The sender's note of moves in doubt (MovedOutLog), beside the receiver's record.
std::string MovedOutPath(const std::string& spoolbase);

// Each bus peer of `bus` (not self) at its bus address on the port of our own ECCluster
// listener (its first bound address, "0.0.0.0:4802"): every node listens on the same port, as
// Momentum's shared configuration has it. Empty without a bound address.
MoverPeers PeersFor(const msgc::BusConfig& bus, const std::vector<std::string>& listening);
// cluster { unconditional_rebind } (default true).
Result<bool> UnconditionalRebind(const config::Config& config);

struct MoverOptions {
  event::EventBase* base = nullptr;
  spool::Spool* spool = nullptr;
  mta::MtaLogs* logs = nullptr;  // the X lines; may be null
  outbound::Scheduler* scheduler = nullptr;
  std::string self;
  MoverPeers peers;
  // Each DuraVIP binding -> the node holding its address ("" if none): DuravipModule.
  std::function<std::map<std::string, std::string>()> holders;
  std::function<bool(const std::string&)> alive;  // a bus member alive in our view
  bool unconditional_rebind = true;
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds request_timeout{3000};
  std::chrono::milliseconds node_backoff{2000};  // after a failed move to a node
  size_t batch = 64;                             // messages per node per round
};

class Mover {
 public:
  // Starts the worker thread and the round timer.
  static Result<std::unique_ptr<Mover>> Start(MoverOptions options);
  // Joins the worker (a move in progress finishes or times out first). Messages it had taken
  // stay in the spool and are queued again at the next start.
  ~Mover();
  Mover(const Mover&) = delete;
  Mover& operator=(const Mover&) = delete;

  // A round now (the DuraVIP view changed); nothing if one is in progress.
  void Round();
  // Config reload.
  void SetPeers(MoverPeers peers) { options_.peers = std::move(peers); }
  void SetUnconditionalRebind(bool on) { options_.unconditional_rebind = on; }

  struct Stats {
    uint64_t moved = 0, duplicates = 0, failed = 0;
  };
  Stats stats() const { return stats_; }
  size_t in_doubt() const { return in_doubt_.size(); }
  // Moves in doubt per node they may have reached.
  std::map<std::string, size_t> InDoubtByNode() const;
  // `cluster mmove release <node>` (PlanRelease): the moves in doubt to a node that is gone
  // for good go back to our scheduler, their note settled durably first. Answers what it did;
  // an error changes nothing. The node may still hold and deliver its copy: the operator's call.
  Result<ReleasePlan> Release(const std::string& node);

 private:
  struct Job {
    spool::QueueId id;
    std::string node, endpoint, moved_for;
    msgc::CurveOptions curve;
    bool unconditional_rebind = true;
  };
  struct Done {
    Job job;
    Status status;  // of the move; ok: outcome holds the receiver's answer
    MoveOutcome outcome;
    std::shared_ptr<spool::SpooledMessage> message;  // null if it could not be read
    uint64_t body_size = 0;
    bool too_large = false;
    bool skipped = false;  // not tried: its node failed earlier in the batch, or stopping
    bool in_doubt = false;  // failed after the commit went out: that node may hold it
  };
  struct InDoubt {
    std::string node;
    std::string moved_for;  // "" after a restart: the spooled assignment travels
  };
  using Clients = std::map<std::string, std::unique_ptr<eccluster::ChannelClient>>;

  explicit Mover(MoverOptions options) : options_(std::move(options)) {}
  OwnershipView View();
  void Work();                                              // worker thread
  Done MoveOne(const Job& job, Clients& clients);           // worker thread
  void Finish(Done done);                                   // loop
  void Requeue(const Done& d);                              // loop

  MoverOptions options_;
  std::unique_ptr<event::Timer> timer_;
  bool busy_ = false;  // a batch is with the worker
  std::map<std::string, std::chrono::steady_clock::time_point> backoff_;  // node -> until
  std::set<spool::QueueId> too_large_;  // not movable: delivered here when the address returns
  // Out of the scheduler, in the spool, and moved only to that node until it answers.
  std::map<spool::QueueId, InDoubt> in_doubt_;
  std::set<spool::QueueId> moving_;  // handed to the worker, not yet Finish()ed
  std::shared_ptr<MovedOutLog> moved_out_;  // shared with spool removal callbacks
  Stats stats_;

  std::shared_ptr<zmq::context_t> context_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<Job>> batches_;  // guarded by mu_
  bool stop_ = false;                     // guarded by mu_
  std::thread worker_;
  // Results posted to the loop after we are gone are dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ec::mmove
