#include "mta/mmove/mover.h"

#include <algorithm>
#include <filesystem>
#include <zmq.hpp>

#include "common/log/logger.h"

namespace ec::mmove {

MoverPeers PeersFor(const msgc::BusConfig& bus, const std::vector<std::string>& listening) {
  MoverPeers out{.curve = bus.bus.curve};
  if (listening.empty()) return out;
  const std::string& first = listening.front();
  const std::string port = first.substr(first.rfind(':') + 1);
  for (const auto& [node, address] : bus.bus.peers) {
    if (node == bus.bus.self) continue;
    const std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    out.endpoints[node] = host + ":" + port;
  }
  return out;
}

Result<bool> UnconditionalRebind(const config::Config& config) {
  bool on = true;
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("unconditional_rebind")) {
      auto v = o->value.AsBool();
      if (!v.ok()) return v.status().WithContext(o->location.ToString() + ": unconditional_rebind");
      on = *v;
    }
  }
  return on;
}

Result<std::unique_ptr<Mover>> Mover::Start(MoverOptions options) {
  if (!options.base || !options.spool || !options.scheduler || !options.holders ||
      !options.alive) {
    return InvalidArgument("mmove mover: missing services");
  }
  std::unique_ptr<Mover> m(new Mover(std::move(options)));
  spool::Spool* spool = m->options_.spool;
  const std::string path = MovedOutPath(spool->spoolbase());
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Internal("mmove: creating " + path + ": " + ec.message());
  auto log = MovedOutLog::Open(path, [spool](uint64_t id) {
    return spool->ReadMessage(spool::QueueId(id)).ok();
  });
  if (!log.ok()) return log.status().WithContext("mmove: moved-out record " + path);
  m->moved_out_ = std::move(*log);
  // Moves left in doubt by our last run go to their node again, and nowhere else meanwhile.
  std::set<spool::QueueId> doubtful;
  for (const auto& [id, node] : m->moved_out_->entries()) {
    m->in_doubt_[spool::QueueId(id)] = {.node = node};
    doubtful.insert(spool::QueueId(id));
  }
  m->options_.scheduler->Withdraw(doubtful);
  if (!doubtful.empty()) {
    EC_LOG(kWarn, "mmove moves in doubt after restart").Field("messages", doubtful.size());
  }
  m->context_ = std::make_shared<zmq::context_t>(1);
  m->timer_ = std::make_unique<event::Timer>(*m->options_.base, [raw = m.get()] { raw->Round(); });
  m->timer_->StartRepeating(m->options_.interval);
  m->worker_ = std::thread([raw = m.get()] { raw->Work(); });
  return m;
}

Mover::~Mover() {
  *alive_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

OwnershipView Mover::View() {
  OwnershipView view{.self = options_.self, .vip_owner = options_.holders()};
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [node, endpoint] : options_.peers.endpoints) {
    auto b = backoff_.find(node);
    if (b != backoff_.end() && now < b->second) continue;
    if (options_.alive(node)) view.reachable.insert(node);
  }
  return view;
}

void Mover::Round() {
  if (busy_) return;
  const OwnershipView view = View();
  std::vector<Job> jobs;
  auto job = [&](spool::QueueId id, const std::string& node, const std::string& moved_for,
                 bool rebind) {
    auto endpoint = options_.peers.endpoints.find(node);
    if (endpoint == options_.peers.endpoints.end()) return false;
    jobs.push_back({.id = id,
                    .node = node,
                    .endpoint = endpoint->second,
                    .moved_for = moved_for,
                    .curve = options_.peers.curve,
                    .unconditional_rebind = rebind});
    return true;
  };
  // Moves in doubt first, each to the node that may hold it (whoever holds the address now).
  for (const auto& [id, d] : in_doubt_) {
    if (jobs.size() >= options_.batch) break;
    if (view.reachable.count(d.node)) {
      (void)job(id, d.node, d.moved_for, d.moved_for.empty() || options_.unconditional_rebind);
    }
  }
  std::vector<QueuedMessage> queue;
  std::map<uint64_t, std::string> binding_of;
  const size_t scan = options_.batch * 64;
  std::set<spool::QueueId> still_large;
  // The scan walks the held queues: skipped while no other reachable node holds an address
  // (an unreachable holder would otherwise cost a walk of its queue every second).
  const bool movable =
      std::any_of(view.vip_owner.begin(), view.vip_owner.end(), [&view](const auto& b) {
        return !b.second.empty() && b.second != view.self && view.reachable.count(b.second);
      });
  const std::vector<std::pair<spool::QueueId, std::string>> held =
      movable ? options_.scheduler->HeldMessages(scan)
              : std::vector<std::pair<spool::QueueId, std::string>>();
  for (const auto& [id, binding] : held) {
    const bool large = too_large_.count(id) > 0;
    if (large) still_large.insert(id);
    queue.push_back({.id = id.value(), .binding = binding, .busy = large});
    binding_of[id.value()] = binding;
  }
  if (movable && held.size() < scan) too_large_ = std::move(still_large);  // the rest left
  std::set<spool::QueueId> taken;
  for (const auto& [node, ids] : PlanMoves(queue, view, options_.batch)) {
    for (uint64_t id : ids) {
      const spool::QueueId q(id);
      if (job(q, node, binding_of[id], options_.unconditional_rebind)) taken.insert(q);
    }
  }
  if (jobs.empty()) return;
  // Out of the scheduler first, so no delivery attempt starts while the message moves.
  options_.scheduler->Withdraw(taken);
  for (const Job& j : jobs) moving_.insert(j.id);
  busy_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(std::move(jobs));
  }
  cv_.notify_one();
}

void Mover::Work() {
  Clients clients;  // this thread's only: a ChannelClient is not shared
  for (;;) {
    std::vector<Job> jobs;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !batches_.empty(); });
      if (stop_) break;
      jobs = std::move(batches_.front());
      batches_.pop_front();
    }
    std::weak_ptr<bool> alive = alive_;
    std::set<std::string> failed;  // nodes that failed in this batch: the rest waits
    bool moved_any = false;
    for (const Job& job : jobs) {
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stop_;
      }
      Done d;
      if (stopping || failed.count(job.node)) {
        d = {.job = job, .status = Unavailable("mmove: not tried this round"), .skipped = true};
      } else {
        d = MoveOne(job, clients);
        if (!d.status.ok() && !d.too_large) failed.insert(job.node);
        moved_any |= d.status.ok();
      }
      // Each one finished at once: the sooner our copy goes, the fewer moves a crash repeats.
      options_.base->RunInLoop([this, alive, d = std::move(d)]() mutable {
        if (auto a = alive.lock(); a && *a) Finish(std::move(d));
      });
    }
    options_.base->RunInLoop([this, alive, moved_any] {
      if (auto a = alive.lock(); !a || !*a) return;
      busy_ = false;
      // More may be waiting (a long queue goes a batch per node per round).
      if (moved_any) Round();
    });
  }
  clients.clear();  // before the context goes
}

std::string MovedOutPath(const std::string& spoolbase) {
  return (std::filesystem::path(spoolbase) / "mmove" / "moved_out").string();
}

Mover::Done Mover::MoveOne(const Job& job, Clients& clients) {
  Done d{.job = job};
  auto message = options_.spool->ReadMessage(job.id);
  if (!message.ok()) {
    d.status = message.status().WithContext("mmove: reading");
    return d;
  }
  auto body = options_.spool->ReadBody(job.id);
  if (!body.ok()) {
    d.status = body.status().WithContext("mmove: reading");
    return d;
  }
  d.message = std::make_shared<spool::SpooledMessage>(std::move(*message));
  d.body_size = body->size();
  std::string payload = PayloadFor(*d.message, *body, job.moved_for, job.unconditional_rebind);
  if (payload.size() > kMaxPayloadBytes) {
    d.too_large = true;
    d.status = ResourceExhausted("mmove: message too large to move");
    return d;
  }
  const std::string key = job.node + "|" + job.endpoint;
  auto it = clients.find(key);
  if (it == clients.end()) {
    auto o = eccluster::ClientOptionsFor(job.curve, options_.self, job.node, job.endpoint);
    if (!o.ok()) {
      d.status = o.status();
      return d;
    }
    o->connect_timeout = options_.request_timeout;
    o->context = context_;
    auto c = eccluster::ChannelClient::Create(std::move(*o));
    if (!c.ok()) {
      d.status = c.status();
      return d;
    }
    it = clients.emplace(key, std::move(*c)).first;
  }
  MovedOutLog* log = moved_out_.get();
  bool commit_sent = false;
  auto outcome = SendMove(
      *it->second, job.id, payload, options_.request_timeout,
      [&] { return log->Note(job.id.value(), job.node); }, &commit_sent);
  if (!outcome.ok()) {
    d.status = outcome.status();
    d.in_doubt = commit_sent;
    return d;
  }
  d.outcome = *outcome;
  return d;
}

void Mover::Finish(Done d) {
  moving_.erase(d.job.id);
  // A move in doubt stays so until that node answers "stored" or "dup": only then is it known
  // whether it holds the message (2PC: while it is down, the message waits here).
  const bool doubtful = d.in_doubt || in_doubt_.count(d.job.id) > 0;
  if (!d.message && d.status.code() == StatusCode::kNotFound) {
    // Gone from our spool (deleted meanwhile): nothing left to move or to doubt.
    in_doubt_.erase(d.job.id);
    moved_out_->Settle(d.job.id.value());
    return;
  }
  if (!d.status.ok()) {
    if (d.skipped) return doubtful ? void() : Requeue(d);
    ++stats_.failed;
    if (d.too_large) too_large_.insert(d.job.id);
    if (!d.too_large) {
      backoff_[d.job.node] = std::chrono::steady_clock::now() + options_.node_backoff;
    }
    EC_LOG(kWarn, "mmove failed")
        .Field("id", d.job.id.ToString())
        .Field("to", d.job.node)
        .Field("in_doubt", doubtful)
        .Field("error", d.status);
    if (doubtful) {
      in_doubt_[d.job.id] = {.node = d.job.node, .moved_for = d.job.moved_for};
      return;
    }
    return Requeue(d);
  }
  in_doubt_.erase(d.job.id);
  ++(d.outcome.duplicate ? stats_.duplicates : stats_.moved);
  // The note goes once our removal is durable: a crash before that repeats the move to the
  // same node, which answers "dup".
  std::shared_ptr<MovedOutLog> log = moved_out_;
  const uint64_t id = d.job.id.value();
  Status s = FinishMoved(*options_.spool, options_.logs, *d.message, d.body_size,
                         d.job.moved_for, d.job.node, d.outcome, [log, id](Status removed) {
                           if (removed.ok()) log->Settle(id);
                         });
  if (!s.ok()) {
    // The receiver has it; our copy stays until the next start, when the move repeats and is
    // answered "dup" (never delivered twice: it is no longer in the scheduler).
    EC_LOG(kError, "mmove remove after move").Field("id", d.job.id.ToString()).Field("error", s);
  }
}

std::map<std::string, size_t> Mover::InDoubtByNode() const {
  std::map<std::string, size_t> out;
  for (const auto& [id, d] : in_doubt_) ++out[d.node];
  return out;
}

Result<ReleasePlan> Mover::Release(const std::string& node) {
  std::map<uint64_t, std::string> doubt;
  for (const auto& [id, d] : in_doubt_) doubt[id.value()] = d.node;
  std::set<uint64_t> moving;
  for (spool::QueueId id : moving_) moving.insert(id.value());
  EC_ASSIGN_OR_RETURN(ReleasePlan plan, PlanRelease(doubt, node, options_.self,
                                                    options_.alive(node), moving));
  // Durable first: a crash after this finds them in the spool, not in doubt, and schedules them.
  EC_RETURN_IF_ERROR(moved_out_->Release(plan.ids).WithContext("mmove release"));
  for (uint64_t id : plan.ids) {
    in_doubt_.erase(spool::QueueId(id));
    Requeue({.job = {.id = spool::QueueId(id), .node = node}});
  }
  EC_LOG(kWarn, "mmove released moves in doubt: that node may still deliver its copies")
      .Field("node", node)
      .Field("messages", plan.ids.size())
      .Field("still_moving", plan.moving);
  return plan;
}

void Mover::Requeue(const Done& d) {
  std::shared_ptr<spool::SpooledMessage> m = d.message;
  if (!m) {
    auto r = options_.spool->ReadMessage(d.job.id);
    if (!r.ok()) {
      EC_LOG(kError, "mmove requeue").Field("id", d.job.id.ToString()).Field("error", r.status());
      return;
    }
    m = std::make_shared<spool::SpooledMessage>(std::move(*r));
  }
  std::vector<std::string> rcpts;
  rcpts.reserve(m->envelope.rcpts.size());
  for (const auto& r : m->envelope.rcpts) rcpts.push_back(r.address);
  options_.scheduler->Add(m->id, rcpts, m->states,
                          {m->envelope.binding, m->envelope.binding_group});
}

}  // namespace ec::mmove
