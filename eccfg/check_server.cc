#include "eccfg/check_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

extern char** environ;

namespace ec::eccfg {

Result<CheckServer::BinaryId> CheckServer::Identify() const {
  struct stat st {};
  if (::stat(ecmta_.c_str(), &st) != 0) return ErrnoStatus("stat " + ecmta_.string(), errno);
  return BinaryId{st.st_dev, st.st_ino, st.st_size,
                  int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec};
}

Status CheckServer::Start(const BinaryId& id) {
  // Built before fork: only async-signal-safe calls in the child.
  std::string program = ecmta_.string();
  std::string option = "--check-config-server";
  char* argv[] = {program.data(), option.data(), nullptr};
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return ErrnoStatus("fork", err);
  }
  if (pid == 0) {
    ::dup2(fds[1], 0);
    ::dup2(fds[1], 1);
    // The server's own complaints (an older ecmta refusing the option) are not the check's
    // output; each check's output travels in its reply.
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    // It lives as long as the watch: it must hold nothing of eccfg's (the working-copy lock
    // above all), even a descriptor someone forgot to mark close-on-exec.
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv, environ);
    ::_exit(127);
  }
  ::close(fds[1]);
  socket_.Reset(fds[0]);
  pid_ = pid;
  running_ = id;
  answered_ = false;
  return Status::Ok();
}

void CheckServer::Stop() {
  socket_.Reset();
  if (pid_ < 0) return;
  // Idle between requests (one thread uses this object), so nothing is cut short.
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Result<CommandOutcome> CheckServer::Exchange(const config::CheckRequest& request) {
  EC_ASSIGN_OR_RETURN(std::string frame, config::EncodeCheckRequest(request));
  for (size_t sent = 0; sent < frame.size();) {
    ssize_t n = ::send(socket_.get(), frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("the check server stopped reading");
    sent += static_cast<size_t>(n);
  }
  config::CheckFrameParser parser;
  char buf[16384];
  for (;;) {
    auto reply = parser.PopReply();
    if (!reply.ok()) return Unavailable("check server: " + reply.status().message());
    if (*reply) {
      if (parser.buffered() != 0) return Unavailable("check server: unasked reply");
      return CommandOutcome{(*reply)->exit_code, std::move((*reply)->output)};
    }
    ssize_t n = ::recv(socket_.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("the check server exited");
    parser.Append(std::string_view(buf, static_cast<size_t>(n)));
  }
}

void CheckServer::Warm() {
  auto id = Identify();
  if (pid_ < 0 && id.ok() && unsupported_ != *id) (void)Start(*id);
}

Result<CommandOutcome> CheckServer::Check(const config::CheckRequest& request) {
  EC_ASSIGN_OR_RETURN(BinaryId id, Identify());
  if (pid_ >= 0 && id != running_) Stop();
  if (pid_ < 0) {
    if (unsupported_ == id) return Unavailable(ecmta_.string() + " has no check server");
    EC_RETURN_IF_ERROR(Start(id));
  }
  auto outcome = Exchange(request);
  if (!outcome.ok()) {
    if (!answered_) unsupported_ = running_;
    Stop();
    return outcome.status();
  }
  answered_ = true;
  return outcome;
}

}  // namespace ec::eccfg
