// The ZAP handler (ZeroMQ RFC 27) of one bus context: during each CURVE handshake on our ROUTER
// ZeroMQ asks it whether the client's public key may connect. It accepts exactly the keys of the
// configured peers, answers with the peer's node name as ZAP user id (so the bus can check the
// frames' sender against the authenticated key), and logs every refusal (rate-limited per key).
// Owned by the Bus; the REP socket lives in the Bus's context; runs on the loop thread.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "common/base/status.h"
#include "msgc/bus_options.h"
#include "msgc/loop_socket.h"

namespace ec::msgc {

inline constexpr const char* kZapDomain = "ec_msgc";
// Connection metadata property the handler sets on accepted connections: the client's public key
// (Z85). The Bus compares it per message with the peer's current key, so a key replaced by a
// config reload stops frames on connections authenticated with the old key.
inline constexpr const char* kZapKeyProperty = "X-Curve-Key";

class ZapHandler {
 public:
  // `public_keys`: node name -> Z85 public key. Binds inproc://zeromq.zap.01 in `context`; must
  // exist before any CURVE server socket of that context accepts a connection.
  static Result<std::unique_ptr<ZapHandler>> Create(
      event_base* base, zmq::context_t& context,
      const std::map<std::string, std::string>& public_keys, LogFn log);

  // Replaces the accepted key set (same form as Create's) for future handshakes. Connections
  // already authenticated keep their ZAP user id; the Bus re-checks it per message. On error the
  // old set stays.
  Status SetKeys(const std::map<std::string, std::string>& public_keys);

  uint64_t accepted() const { return accepted_; }
  uint64_t refused() const { return refused_; }

 private:
  ZapHandler(zmq::context_t& context, LogFn log);
  static Result<std::map<std::string, std::string>> NameByKey(
      const std::map<std::string, std::string>& public_keys);
  void Drain();
  void Handle(std::vector<zmq::message_t>& request);
  void LogRefusal(const std::string& address, const std::string& key, const std::string& why);

  zmq::socket_t socket_;
  LogFn log_;
  std::map<std::string, std::string> name_by_key_;  // binary public key -> node name
  struct RefusalLog {
    std::chrono::steady_clock::time_point last_logged;
    uint64_t suppressed = 0;
  };
  std::map<std::string, RefusalLog> refusal_log_;  // by "address key"
  uint64_t accepted_ = 0;
  uint64_t refused_ = 0;
  std::unique_ptr<SocketWatcher> watcher_;  // last: stops callbacks before members go
};

}  // namespace ec::msgc
