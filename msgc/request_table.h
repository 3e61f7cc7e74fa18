// RequestTable: the REQUESTs this node is waiting on, each with its reply callback and a
// libevent deadline timer. Guarantees each callback runs exactly once, always from the loop and
// never inside the call that registered it: with the reply, an error, or kDeadlineExceeded.
// Owned by the Bus; loop thread only. Destroying it drops pending callbacks without calling them.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/base/status.h"
#include "msgc/loop_socket.h"

namespace ec::msgc {

using ReplyCallback = std::function<void(Result<std::string> reply)>;

class RequestTable {
 public:
  explicit RequestTable(event_base* base);
  RequestTable(const RequestTable&) = delete;
  RequestTable& operator=(const RequestTable&) = delete;

  // Registers a request to `peer` that expires after `timeout`; returns its id (never 0).
  uint64_t Add(std::string peer, std::chrono::milliseconds timeout, ReplyCallback done);
  // Fails `id` with `status` on the next loop iteration (a send that failed at once).
  void FailSoon(uint64_t id, Status status);
  // Completes `id` if it is pending and was sent to `peer`; false if not (late or foreign).
  bool Complete(uint64_t id, const std::string& peer, Result<std::string> result);
  // Fails every request pending on `peer` now.
  void FailPeer(const std::string& peer, const Status& status);
  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    RequestTable* table = nullptr;
    uint64_t id = 0;
    std::string peer;
    ReplyCallback done;
    std::optional<Status> failure;  // set by FailSoon
    EventPtr timer;
  };
  static void OnTimer(evutil_socket_t, short, void* arg);
  void Finish(uint64_t id, Result<std::string> result);

  event_base* base_;
  uint64_t next_id_;
  std::map<uint64_t, std::unique_ptr<Pending>> pending_;
};

}  // namespace ec::msgc
