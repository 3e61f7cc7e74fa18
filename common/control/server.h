// The control (console) server every daemon runs: listens on a unix socket (normally
// <run>/ec_console.sock) and optionally on TCP (127.0.0.1:2025), reads request lines, runs the
// matching command from its CommandRegistry and writes framed responses in request order
// (docs/control-protocol.md). Built in: `help`, `version`, `quit`.
// Owned by the daemon's main object; runs on one EventBase's loop thread, which must outlive
// it. Commands may be registered before or after Start(). A Reply used from another thread is
// posted to the loop, so the EventBase must also outlive such Replies.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/listener.h"

namespace ec::control {

// The Control_Listener's usual TCP address; a daemon passes it when TCP is enabled.
inline constexpr std::string_view kDefaultTcpAddress = "127.0.0.1:2025";

struct ServerOptions {
  std::string unix_path;                          // empty: no unix listener
  std::string tcp_address;                        // "127.0.0.1:2025"; empty: no TCP listener
  std::chrono::milliseconds idle_timeout{60000};  // Control_Listener `timeout`
  size_t max_request_line = kDefaultMaxRequestLine;
  size_t max_sessions = 64;
  mode_t unix_mode = 0600;
  std::string version;  // the `version` reply; empty: "ec <project version>"
  bool log_commands = true;  // each command at info level (else debug)
};

class Session;

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(event::EventBase& base, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // closes the listeners and every session; pending replies are dropped

  CommandRegistry& commands() { return commands_; }
  // The bound TCP address (the real port after port 0); null without a TCP listener.
  const event::SocketAddress* tcp_address() const;
  size_t session_count() const { return sessions_.size(); }

 private:
  friend class Session;
  Server(event::EventBase& base, ServerOptions options);
  void Accept(int fd, const event::SocketAddress& peer);
  void RegisterBuiltins();
  void Remove(Session* session);

  event::EventBase& base_;
  const ServerOptions options_;
  CommandRegistry commands_;
  std::unique_ptr<event::Listener> unix_listener_;
  std::unique_ptr<event::Listener> tcp_listener_;
  std::map<Session*, std::shared_ptr<Session>> sessions_;
  uint64_t next_session_id_ = 1;
};

}  // namespace ec::control
