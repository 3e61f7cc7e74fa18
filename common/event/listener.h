// Listener: a listening TCP or unix-domain socket on an EventBase (libevent evconnlistener)
// that hands every accepted connection to a callback on the loop thread. The callback owns the
// accepted descriptor (non-blocking, close-on-exec). A unix socket file is created with the
// given mode, a stale one (nobody listening) is replaced, and the file is removed again when the
// Listener is destroyed. When accept fails (out of descriptors) the listener pauses for a moment
// rather than spinning. Creating one ignores SIGPIPE process-wide (a vanished peer is an
// EPIPE, not a kill). Loop thread only.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>

#include "common/event/address.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"

namespace ec::event {

struct ListenerOptions {
  int backlog = 128;
  mode_t unix_mode = 0660;
  gid_t unix_group = static_cast<gid_t>(-1);  // -1: the creating process's group
};

class Listener {
 public:
  using AcceptCallback = std::function<void(int fd, const SocketAddress& peer)>;

  static Result<std::unique_ptr<Listener>> Create(EventBase& base, const SocketAddress& address,
                                                  AcceptCallback on_accept,
                                                  ListenerOptions options = {});
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  // The bound address: the real port when asked for port 0.
  const SocketAddress& address() const { return address_; }

 private:
  Listener(EventBase& base, AcceptCallback on_accept);
  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg);
  static void OnError(evconnlistener*, void* arg);

  AcceptCallback on_accept_;
  SocketAddress address_;
  ListenerPtr listener_;
  Timer resume_;
  dev_t unix_dev_ = 0;  // identity of the socket file we created, to remove only ours
  ino_t unix_ino_ = 0;
};

}  // namespace ec::event
