#include "msgc/request_table.h"

#include <random>
#include <vector>

#include "common/base/check.h"

namespace ec::msgc {
namespace {

timeval ToTimeval(std::chrono::microseconds us) {
  return {static_cast<time_t>(us.count() / 1000000),
          static_cast<suseconds_t>(us.count() % 1000000)};
}

}  // namespace

RequestTable::RequestTable(event_base* base) : base_(base) {
  // Ids start at a random point so a reply meant for a previous incarnation of this node cannot
  // match a new request.
  std::random_device rd;
  next_id_ = (((static_cast<uint64_t>(rd()) << 32) ^ rd()) >> 1) + 1;
}

uint64_t RequestTable::Add(std::string peer, std::chrono::milliseconds timeout,
                           ReplyCallback done) {
  auto request = std::make_unique<Pending>();
  request->table = this;
  request->id = next_id_++;
  if (request->id == 0) request->id = next_id_++;
  request->peer = std::move(peer);
  request->done = std::move(done);
  request->timer.reset(evtimer_new(base_, &OnTimer, request.get()));
  EC_CHECK(request->timer != nullptr);
  const timeval tv = ToTimeval(timeout);
  EC_CHECK(evtimer_add(request->timer.get(), &tv) == 0);
  const uint64_t id = request->id;
  pending_.emplace(id, std::move(request));
  return id;
}

void RequestTable::FailSoon(uint64_t id, Status status) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second->failure = std::move(status);
  const timeval now = {0, 0};
  EC_CHECK(evtimer_add(it->second->timer.get(), &now) == 0);
}

bool RequestTable::Complete(uint64_t id, const std::string& peer, Result<std::string> result) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second->peer != peer || it->second->failure) return false;
  Finish(id, std::move(result));
  return true;
}

void RequestTable::FailPeer(const std::string& peer, const Status& status) {
  std::vector<uint64_t> ids;
  for (const auto& [id, request] : pending_) {
    if (request->peer == peer) ids.push_back(id);
  }
  for (uint64_t id : ids) Finish(id, status);
}

void RequestTable::OnTimer(evutil_socket_t, short, void* arg) {
  auto* request = static_cast<Pending*>(arg);
  Status failure = request->failure
                       ? *request->failure
                       : Status(StatusCode::kDeadlineExceeded,
                                "no reply from msgc peer `" + request->peer + "` in time");
  request->table->Finish(request->id, std::move(failure));
}

void RequestTable::Finish(uint64_t id, Result<std::string> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  // Out of the table before the callback, which may add requests or fail others.
  std::unique_ptr<Pending> request = std::move(it->second);
  pending_.erase(it);
  event_del(request->timer.get());
  if (request->done) request->done(std::move(result));
}

}  // namespace ec::msgc
