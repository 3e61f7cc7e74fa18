// The control (console) server every daemon runs: listens on a unix socket (normally
// <run>/ec_console.sock) and optionally on TCP (127.0.0.1:2025), reads request lines, runs the
// matching command from its CommandRegistry and writes framed responses in request order
// (docs/control-protocol.md). Built in: `help`, `version`, `quit`, and `login` (login.h): a TCP
// session runs nothing but `login` and `quit` until it has logged in against `tcp_users`; a
// unix-socket session is authenticated by the socket's file mode and group, and its requests
// carry the peer's uid (SO_PEERCRED) as principal.
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

#include "common/auth/failure_limiter.h"
#include "common/auth/password_file.h"
#include "common/auth/password_verifier.h"
#include "common/control/accounting.h"
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
  mode_t unix_mode = 0660;  // `file_mode`: the daemon's user and group (ecuser) only
  gid_t unix_group = static_cast<gid_t>(-1);  // `group`; -1: the daemon's own group
  // The users a TCP session logs in as (AuthLoginParameters); Start refuses TCP without them.
  std::shared_ptr<const auth::PasswordFile> tcp_users;
  int login_failures_per_session = 3;  // then the session is closed
  int login_failures_per_peer = 10;    // per client IP within the window, then logins refused
  std::chrono::milliseconds login_failure_window{600000};
  std::chrono::milliseconds login_failure_delay{1000};  // before a failed login is answered
  std::string version;       // the `version` reply; empty: "ec <project version>"
  bool log_commands = true;  // each command at info level (else debug)
  // Logins and command authorizations, for the acctlog; unset: not reported.
  AccountingFn on_accounting;
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
  void Accept(int fd, const event::SocketAddress& peer, bool tcp);
  void RegisterBuiltins();
  void Remove(Session* session);

  event::EventBase& base_;
  const ServerOptions options_;
  CommandRegistry commands_;
  auth::PasswordVerifier verifier_;      // crypt(3) off the loop thread
  auth::FailureLimiter login_failures_;  // per client IP, TCP logins
  std::unique_ptr<event::Listener> unix_listener_;
  std::unique_ptr<event::Listener> tcp_listener_;
  std::map<Session*, std::shared_ptr<Session>> sessions_;
  uint64_t next_session_id_ = 1;
};

}  // namespace ec::control
