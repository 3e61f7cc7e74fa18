#include "msgc/loop_socket.h"

#include <exception>

#include "common/base/check.h"

namespace ec::msgc {

Result<std::unique_ptr<SocketWatcher>> SocketWatcher::Create(event_base* base,
                                                             zmq::socket_t& socket,
                                                             std::function<void()> drain) {
  std::unique_ptr<SocketWatcher> watcher(new SocketWatcher());
  watcher->drain_ = std::move(drain);
  const auto fd = socket.get(zmq::sockopt::fd);
  watcher->event_.reset(event_new(base, fd, EV_READ | EV_PERSIST, &OnEvent, watcher.get()));
  if (!watcher->event_ || event_add(watcher->event_.get(), nullptr) != 0) {
    return Internal("cannot watch a ZeroMQ socket from the event loop");
  }
  // Messages may already be queued, in which case the edge has passed: drain once at start.
  watcher->Activate();
  return watcher;
}

void SocketWatcher::Activate() { event_active(event_.get(), EV_READ, 0); }

void SocketWatcher::OnEvent(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SocketWatcher*>(arg);
  try {
    self->drain_();
  } catch (const std::exception& e) {
    // The drains catch what they expect; anything else is a bug.
    EC_PANIC(e.what());
  }
}

bool Readable(zmq::socket_t& socket) {
  return (socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
}

}  // namespace ec::msgc
