// Glue between a libevent loop and ZeroMQ sockets. ZMQ_FD is edge-triggered: it signals that
// the socket's state changed, not that a message is waiting, so the owner must drain until
// ZMQ_EVENTS lacks ZMQ_POLLIN after every wakeup and after every send on that socket.
// SocketWatcher owns the libevent event; the caller owns the socket, which must outlive it.
// Loop thread only.
#pragma once

#include <event2/event.h>

#include <functional>
#include <memory>
#include <zmq.hpp>

#include "common/base/status.h"

namespace ec::msgc {

struct EventDeleter {
  void operator()(::event* ev) const { event_free(ev); }
};
using EventPtr = std::unique_ptr<::event, EventDeleter>;

class SocketWatcher {
 public:
  // `drain` runs on every wakeup of the socket's ZMQ_FD and after Activate(); it must not let
  // an exception escape (it is called from a C callback; SocketWatcher aborts if one does).
  static Result<std::unique_ptr<SocketWatcher>> Create(event_base* base, zmq::socket_t& socket,
                                                       std::function<void()> drain);
  // Runs `drain` again on the next loop iteration: for a drain that stopped early to be fair.
  void Activate();

 private:
  SocketWatcher() = default;
  static void OnEvent(evutil_socket_t fd, short what, void* arg);

  std::function<void()> drain_;
  EventPtr event_;
};

// True if the socket has a message waiting (reading ZMQ_EVENTS also re-arms ZMQ_FD).
bool Readable(zmq::socket_t& socket);

}  // namespace ec::msgc
