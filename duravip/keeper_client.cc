#include "duravip/keeper_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <thread>

#include "common/log/logger.h"

namespace ec::duravip {
namespace {

using Clock = std::chrono::steady_clock;
using daemon::UniqueFd;

constexpr int kKeeperFd = 3;

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Reaps child `pid` if it exits within `timeout`: its wait status; nullopt if it is still
// running (or is not ours to reap any more).
std::optional<int> ReapWithin(pid_t pid, std::chrono::milliseconds timeout) {
  // A pidfd turns "wait for exit, with a timeout" into a poll; waitpid alone has no timeout.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int wstatus = 0;
    const pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) return wstatus;
    if (r < 0 && errno != EINTR) return std::nullopt;
    const int left = MillisLeft(deadline);
    if (left == 0) return std::nullopt;
    if (pidfd.valid()) {
      pollfd pfd{.fd = pidfd.get(), .events = POLLIN};
      poll(&pfd, 1, left);
    } else {  // kernels before 5.3
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 5)));
    }
  }
}

std::string DescribeExit(int wstatus) {
  if (WIFEXITED(wstatus)) return "exited with status " + std::to_string(WEXITSTATUS(wstatus));
  if (WIFSIGNALED(wstatus)) return "killed by signal " + std::to_string(WTERMSIG(wstatus));
  return "stopped";
}

// In the child between fork and exec: only async-signal-safe calls. Never returns.
[[noreturn]] void ExecKeeper(int sock, int err_pipe, const char* path, char* const argv[]) {
  int err = 0;
  // The error pipe must not sit where the socket goes.
  const int err_fd = fcntl(err_pipe, F_DUPFD_CLOEXEC, 10);
  if (err_fd < 0) _exit(127);
  // Own session: a signal to ecmta's process group (a terminal's ^C, a service manager's
  // group kill) leaves the keeper alone; it goes when the socket closes.
  setsid();
  if (sock == kKeeperFd) {
    if (fcntl(sock, F_SETFD, 0) != 0) err = errno;
  } else if (dup2(sock, kKeeperFd) < 0) {
    err = errno;
  }
  // Nothing but stdio and the socket crosses exec.
  if (err == 0 && close_range(kKeeperFd + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = kKeeperFd + 1; fd < 65536; ++fd) {
      if (fd != err_fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
  }
  if (err == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(path, argv);
    err = errno;
  }
  ssize_t ignored = write(err_fd, &err, sizeof(err));
  (void)ignored;
  _exit(127);
}

}  // namespace

Result<std::string> DefaultKeeperPath() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n < 0) return ErrnoStatus("reading /proc/self/exe", errno);
  std::string self(buf, static_cast<size_t>(n));
  const size_t slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/" +
         kKeeperBinaryName;
}

Result<std::unique_ptr<KeeperClient>> KeeperClient::Spawn(const SpawnOptions& options) {
  std::string path = options.binary;
  if (path.empty()) {
    EC_ASSIGN_OR_RETURN(path, DefaultKeeperPath());
  }
  if (access(path.c_str(), X_OK) != 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound("DuraVIP keeper " + path + " does not exist");
    return ErrnoStatus("DuraVIP keeper " + path + " cannot be run", err);
  }

  int sv[2];
  // CLOEXEC on both: ecmta's other children must not hold the keeper's socket open, or the
  // keeper would not see EOF when ecmta dies. The child's end loses it in dup2.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return ErrnoStatus("socketpair for the DuraVIP keeper", errno);
  }
  UniqueFd ours(sv[0]);
  UniqueFd theirs(sv[1]);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe for the DuraVIP keeper", errno);
  UniqueFd err_read(pipe_fds[0]);
  UniqueFd err_write(pipe_fds[1]);

  // Everything the child needs is built before fork: after it, no allocation.
  std::vector<std::string> args = {path};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork for the DuraVIP keeper", errno);
  if (pid == 0) ExecKeeper(theirs.get(), err_write.get(), path.c_str(), argv.data());

  theirs.Reset();
  err_write.Reset();
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(err_read.get(), &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {  // exec failed; the child has exited
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus("starting the DuraVIP keeper " + path, exec_errno);
  }
  EC_LOG(kInfo, "duravip keeper started").Field("path", path).Field("pid", pid);
  return std::make_unique<KeeperClient>(std::move(ours), pid, options.reply_timeout);
}

KeeperClient::KeeperClient(UniqueFd socket, pid_t pid, std::chrono::milliseconds reply_timeout)
    : socket_(std::move(socket)), pid_(pid), reply_timeout_(reply_timeout) {}

KeeperClient::~KeeperClient() {
  socket_.Reset();
  if (pid_ <= 0) return;
  if (std::optional<int> wstatus = ReapWithin(pid_, kExitWait)) {
    EC_LOG(kInfo, "duravip keeper ended").Field("pid", pid_).Field("how", DescribeExit(*wstatus));
  } else {
    EC_LOG(kWarn, "duravip keeper not reaped; leaving it").Field("pid", pid_);
  }
}

std::string KeeperClient::ReapIfExited(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return "";
  const std::optional<int> wstatus = ReapWithin(pid_, wait);
  if (!wstatus) return "";
  const pid_t pid = std::exchange(pid_, -1);
  return "keeper (pid " + std::to_string(pid) + ") " + DescribeExit(*wstatus);
}

Status KeeperClient::Break(Status why) {
  EC_LOG(kError, "duravip keeper connection lost").Field("error", why);
  socket_.Reset();
  broken_ = why;
  return why;
}

Result<KeeperReply> KeeperClient::Call(const KeeperRequest& request) {
  if (!socket_.valid()) {
    return Unavailable("the DuraVIP keeper connection is closed: " + broken_.message());
  }
  const std::string line = FormatRequest(request);
  const std::string what = "keeper request \"" + line + "\"";
  const Clock::time_point deadline = Clock::now() + reply_timeout_;
  const std::string wire = line + "\n";
  std::string_view out = wire;
  while (!out.empty()) {
    pollfd pfd{.fd = socket_.get(), .events = POLLOUT};
    const int ready = poll(&pfd, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      return Break(Status(
          StatusCode::kDeadlineExceeded,
          what + ": keeper not reading within " + std::to_string(reply_timeout_.count()) + " ms"));
    }
    const ssize_t n = send(socket_.get(), out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      const int err = errno;
      const std::string exit = ReapIfExited(std::chrono::milliseconds(100));
      return Break(
          Unavailable(what + ": " + std::strerror(err) + (exit.empty() ? "" : "; " + exit)));
    }
    out.remove_prefix(static_cast<size_t>(n));
  }

  std::string reply_line;
  char buf[4096];
  for (;;) {
    const LineReader::Next next = reader_.Pop(&reply_line);
    if (next == LineReader::Next::kLine) break;
    if (next == LineReader::Next::kTooLong) {
      return Break(Unavailable(what + ": keeper reply too long"));
    }
    pollfd pfd{.fd = socket_.get(), .events = POLLIN};
    const int ready = poll(&pfd, 1, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      return Break(
          Status(StatusCode::kDeadlineExceeded,
                 what + ": no reply within " + std::to_string(reply_timeout_.count()) + " ms"));
    }
    const ssize_t n = recv(socket_.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : 0;
      // The keeper closes its end as it exits; give it a moment to be reaped for the message.
      const std::string exit = ReapIfExited(std::chrono::milliseconds(100));
      return Break(Unavailable(what + ": " + (err ? std::strerror(err) : "keeper closed") +
                               (exit.empty() ? "" : "; " + exit)));
    }
    reader_.Append(std::string_view(buf, static_cast<size_t>(n)));
  }
  // One request, one reply: anything more means the two sides are out of step.
  if (reader_.buffered() != 0)
    return Break(Unavailable(what + ": keeper sent more than one reply"));
  Result<KeeperReply> reply = ParseReply(reply_line);
  if (!reply.ok()) return Break(Unavailable(what + ": " + reply.status().message()));
  if (reply->expired) {
    lease_expired_ = true;
    EC_LOG(kWarn, "duravip keeper lease expired").Field("detail", reply->status.message());
    return Status(StatusCode::kFailedPrecondition,
                  "DuraVIP keeper lease lapsed: " + reply->status.message());
  }
  return reply;
}

namespace {
KeeperRequest VipRequest(KeeperCommand command, const VipAddress& vip, int count = 0) {
  return KeeperRequest{.command = command, .vip = vip, .count = count};
}
Status ReplyStatus(const Result<KeeperReply>& reply) {
  if (!reply.ok()) return reply.status();
  return reply->status;
}
}  // namespace

Status KeeperClient::Add(const VipAddress& vip) {
  return ReplyStatus(Call(VipRequest(KeeperCommand::kAdd, vip)));
}

Status KeeperClient::Remove(const VipAddress& vip) {
  return ReplyStatus(Call(VipRequest(KeeperCommand::kDel, vip)));
}

Result<bool> KeeperClient::Flush(const VipAddress& vip) {
  EC_ASSIGN_OR_RETURN(KeeperReply reply, Call(VipRequest(KeeperCommand::kFlush, vip)));
  EC_RETURN_IF_ERROR(reply.status);
  if (reply.words.size() == 1 && reply.words[0] == "removed") return true;
  if (reply.words.size() == 1 && reply.words[0] == "absent") return false;
  return Break(Unavailable("keeper: unexpected reply to flush"));
}

Status KeeperClient::Announce(const VipAddress& vip, int count) {
  return ReplyStatus(Call(VipRequest(KeeperCommand::kAnnounce, vip, count)));
}

Result<bool> KeeperClient::Renew(std::chrono::milliseconds lease) {
  if (lease.count() < 0 || lease.count() > kMaxLeaseMs) {
    return InvalidArgument("keeper lease " + std::to_string(lease.count()) + " ms out of range");
  }
  const KeeperRequest request{.command = KeeperCommand::kLease, .lease_ms = lease.count()};
  Result<KeeperReply> reply = Call(request);
  // The expiry notice took this renew's place; send it again so `lease` is what runs now.
  if (!reply.ok() && lease_expired_ && usable()) reply = Call(request);
  EC_RETURN_IF_ERROR(ReplyStatus(reply));
  return !TakeLeaseExpired();
}

Result<std::vector<VipAddress>> KeeperClient::Held() {
  EC_ASSIGN_OR_RETURN(KeeperReply reply, Call(KeeperRequest{.command = KeeperCommand::kHeld}));
  EC_RETURN_IF_ERROR(reply.status);
  Result<std::vector<VipAddress>> held = ParseHeldWords(reply.words);
  if (!held.ok()) return Break(Unavailable("keeper: bad held reply: " + held.status().message()));
  return held;
}

bool KeeperClient::TakeLeaseExpired() { return std::exchange(lease_expired_, false); }

}  // namespace ec::duravip
