#include "mta/daemon/check_config_server.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string_view>

#include "common/config/check_wire.h"
#include "common/config/schema.h"
#include "mta/daemon/check_config.h"

namespace ec::mta {
namespace {

bool WriteCheckReply(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// What eccfg's RunProgram does for `ecmta --check-config`, from the fork on: output and errors
// into one pipe, no stdin, the request's directory and EC_CONF_DIR; then the check itself.
config::CheckReply RunCheckChild(const config::CheckRequest& request, int in_fd, int out_fd) {
  config::CheckReply reply;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    reply.output = "ecmta --check-config-server: pipe: " + std::string(strerror(errno)) + "\n";
    return reply;
  }
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();
  if (pid < 0) {
    reply.output = "ecmta --check-config-server: fork: " + std::string(strerror(errno)) + "\n";
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return reply;
  }
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (in_fd > 2) ::close(in_fd);
    if (out_fd > 2) ::close(out_fd);
    if (!request.cwd.empty() && ::chdir(request.cwd.c_str()) != 0) ::_exit(126);
    ::setenv("EC_CONF_DIR", request.conf_dir.c_str(), 1);
    int rc = CheckConfigCommand(request.config, request.root, request.node_name,
                                request.search_path, std::cout);
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    // No static destructors or atexit handlers: they belong to the server.
    ::_exit(rc);
  }
  ::close(pipe_fds[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (reply.output.size() < config::kMaxCheckOutput) {
      reply.output.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      reply.output += "ecmta --check-config-server: waitpid: " + std::string(strerror(errno));
      return reply;
    }
  }
  reply.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return reply;
}

}  // namespace

int CheckConfigServerMain(int in_fd, int out_fd) {
  // Built once here instead of in every child: the option schema is immutable once made, so a
  // check that finds it ready is the same check, a few milliseconds cheaper.
  (void)config::DefaultSchema();
  config::CheckFrameParser parser;
  char buf[16384];
  for (;;) {
    auto request = parser.PopRequest();
    if (!request.ok()) {
      std::cerr << "ecmta --check-config-server: " << request.status().message() << "\n";
      return 1;
    }
    if (*request) {
      if (!WriteCheckReply(out_fd,
                           config::EncodeCheckReply(RunCheckChild(**request, in_fd, out_fd))))
        return 1;
      continue;
    }
    ssize_t n = ::read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    if (n == 0) return parser.buffered() == 0 ? 0 : 1;
    parser.Append(std::string_view(buf, static_cast<size_t>(n)));
  }
}

}  // namespace ec::mta
