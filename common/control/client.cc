#include "common/control/client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <istream>
#include <ostream>

#include "common/control/login.h"
#include "common/event/address.h"

namespace ec::control {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` or the deadline passes.
Status WaitFor(int fd, short events, Clock::time_point deadline, std::string_view what) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status(StatusCode::kDeadlineExceeded, std::string(what));
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return Status::Ok();
    if (n < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(std::string_view endpoint,
                                                std::chrono::milliseconds timeout) {
  EC_ASSIGN_OR_RETURN(event::SocketAddress address, event::SocketAddress::Parse(endpoint));
  const Clock::time_point deadline = Clock::now() + timeout;
  daemon::UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  const std::string where = "connecting to " + address.ToString();
  if (connect(fd.get(), address.get(), address.size()) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      return Unavailable(ErrnoStatus(where, errno).message());
    }
    EC_RETURN_IF_ERROR(WaitFor(fd.get(), POLLOUT, deadline, where + ": timed out"));
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Unavailable(ErrnoStatus(where, err).message());
  }
  return std::unique_ptr<Client>(new Client(std::move(fd)));
}

Status Client::WriteAll(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      EC_RETURN_IF_ERROR(WaitFor(fd_.get(), POLLOUT, deadline, "sending the command timed out"));
      continue;
    }
    return Unavailable(ErrnoStatus("sending the command", errno).message());
  }
  return Status::Ok();
}

Result<Response> Client::Send(std::string_view command, std::chrono::milliseconds timeout) {
  if (command.find('\n') != std::string_view::npos) {
    return InvalidArgument("a console command is one line");
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  std::string line(command);
  line.push_back('\n');
  EC_RETURN_IF_ERROR(WriteAll(line, deadline));
  char buf[16384];
  for (;;) {
    EC_ASSIGN_OR_RETURN(std::optional<Response> response, parser_.Pop());
    if (response) return std::move(*response);
    ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      parser_.Append(std::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0) {
      return Unavailable("the server closed the connection");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      EC_RETURN_IF_ERROR(WaitFor(fd_.get(), POLLIN, deadline, "no response in time"));
    } else if (errno != EINTR) {
      return Unavailable(ErrnoStatus("reading the response", errno).message());
    }
  }
}

Status Client::Login(std::string_view user, std::string_view password,
                     std::chrono::milliseconds timeout) {
  EC_ASSIGN_OR_RETURN(Response response, Send(FormatLogin(user, password), timeout));
  if (response.ok) return Status::Ok();
  std::string_view text = response.text;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  return Status(StatusCode::kPermissionDenied, std::string(text));
}

Result<std::string> RunCommand(std::string_view endpoint, std::string_view command,
                               std::chrono::milliseconds timeout, const Credentials& credentials) {
  const Clock::time_point deadline = Clock::now() + timeout;
  EC_ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Connect(endpoint, timeout));
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (!credentials.user.empty()) {
    EC_RETURN_IF_ERROR(client->Login(credentials.user, credentials.password, left));
    left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  }
  EC_ASSIGN_OR_RETURN(Response response, client->Send(command, left));
  if (!response.ok) {
    std::string_view text = response.text;
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    return FailedPrecondition(std::string(text));
  }
  return std::move(response.text);
}

int InteractiveLoop(std::string_view endpoint, std::istream& in, std::ostream& out,
                    std::ostream& err, const InteractiveOptions& options) {
  Result<std::unique_ptr<Client>> client = Client::Connect(endpoint, options.timeout);
  if (!client.ok()) {
    err << "ec_console: " << client.status().message() << "\n";
    return 2;
  }
  if (!options.credentials.user.empty()) {
    Status login =
        (*client)->Login(options.credentials.user, options.credentials.password, options.timeout);
    if (!login.ok()) {
      err << "ec_console: " << login.message() << "\n";
      return 2;
    }
  }
  int status = 0;
  std::string line;
  for (;;) {
    if (options.show_prompt) out << options.prompt << std::flush;
    if (!std::getline(in, line)) break;
    std::string_view command = Trim(line);
    if (command.empty() || command.front() == '#') continue;
    if (command == "quit" || command == "exit") break;
    Result<Response> response = (*client)->Send(command, options.timeout);
    if (!response.ok()) {
      err << "ec_console: " << response.status().message() << "\n";
      return 2;
    }
    if (response->ok) {
      out << response->text << std::flush;
    } else {
      err << "error: " << response->text << std::flush;
      status = 1;
    }
  }
  if (options.show_prompt) out << "\n";
  return status;
}

}  // namespace ec::control
