// The client side of the console protocol, for ec_console, eccfg (`config reload`) and tests:
// connect to a control socket given as a unix socket path or host:port, send request lines,
// read framed responses. Blocking I/O with deadlines (poll), no event loop. A Client is used by
// one thread at a time.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/control/protocol.h"
#include "common/daemon/unique_fd.h"

namespace ec::control {

inline constexpr std::chrono::milliseconds kDefaultClientTimeout{60000};

class Client {
 public:
  // `endpoint`: "/path/ec_console.sock" (anything with a '/') or "127.0.0.1:2025", "[::1]:2025".
  // kUnavailable if nobody listens there.
  static Result<std::unique_ptr<Client>> Connect(std::string_view endpoint,
                                                 std::chrono::milliseconds timeout);

  // Sends one request line and waits for its response (ok or error). A Status error means the
  // connection failed (kUnavailable: closed; kDeadlineExceeded: no answer in time) and the
  // Client is unusable.
  Result<Response> Send(std::string_view command, std::chrono::milliseconds timeout);

  // `login user password` (a TCP console's first request). kPermissionDenied with the server's
  // text if refused; a connection failure as for Send.
  Status Login(std::string_view user, std::string_view password, std::chrono::milliseconds timeout);

 private:
  explicit Client(daemon::UniqueFd fd) : fd_(std::move(fd)) {}
  Status WriteAll(std::string_view data, std::chrono::steady_clock::time_point deadline);

  daemon::UniqueFd fd_;
  ResponseParser parser_;
};

// Who to log in as on a TCP console; empty user: no login.
struct Credentials {
  std::string user;
  std::string password;
};

// One command on a fresh connection (after logging in with `credentials` when a user is set):
// the response text, or the server's error text as a kFailedPrecondition Status, or the
// connection or login failure.
Result<std::string> RunCommand(std::string_view endpoint, std::string_view command,
                               std::chrono::milliseconds timeout = kDefaultClientTimeout,
                               const Credentials& credentials = {});

struct InteractiveOptions {
  Credentials credentials;   // logged in with before the first command when a user is set
  bool show_prompt = false;  // true when stdin is a terminal
  std::string prompt = "ec> ";
  std::chrono::milliseconds timeout = kDefaultClientTimeout;
};

// ec_console's loop: reads commands from `in` one line at a time (blank lines and lines starting
// with '#' skipped, "quit"/"exit" or end of input stop), prints each response to `out` and each
// error response to `err` as "error: ...". Returns the exit status: 0 if every command
// succeeded, 1 if any failed, 2 if the connection could not be made or was lost.
int InteractiveLoop(std::string_view endpoint, std::istream& in, std::ostream& out,
                    std::ostream& err, const InteractiveOptions& options = {});

}  // namespace ec::control
