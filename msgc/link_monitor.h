// LinkMonitor: watches the connection state of one DEALER (our sending link to one peer) through
// a ZeroMQ socket monitor, so the bus knows whether frames to that peer can go out right now and
// logs why a link does not come up: the peer refused our key (ZAP), or the peer does not hold
// the key committed for it (CURVE handshake failure). Logs transitions only, not every retry.
// Owned by the Bus next to the DEALER it watches; loop thread only.
#pragma once

#include <event2/event.h>

#include <memory>
#include <string>
#include <zmq.hpp>

#include "common/base/status.h"
#include "msgc/bus_options.h"
#include "msgc/loop_socket.h"

namespace ec::msgc {

class LinkMonitor {
 public:
  // Starts monitoring `dealer` (which must outlive this object) for the link to `peer`.
  static Result<std::unique_ptr<LinkMonitor>> Create(event_base* base, zmq::context_t& context,
                                                     zmq::socket_t& dealer, std::string peer,
                                                     LogFn log);
  ~LinkMonitor();

  // The handshake with the peer succeeded and the connection has not dropped since.
  bool up() const { return up_; }
  uint64_t handshake_failures() const { return handshake_failures_; }

 private:
  LinkMonitor(zmq::context_t& context, zmq::socket_t& dealer, std::string peer, LogFn log);
  void Drain();
  void OnEvent(uint16_t event, uint32_t value);

  zmq::socket_t& dealer_;
  zmq::socket_t pair_;
  std::string peer_;
  LogFn log_;
  bool up_ = false;
  std::string last_failure_;  // logged once until the link comes up
  uint64_t handshake_failures_ = 0;
  std::unique_ptr<SocketWatcher> watcher_;
};

}  // namespace ec::msgc
