#include "common/daemon/daemonize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/daemon/unique_fd.h"

namespace ec::daemon {

Status Daemonize() {
  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid > 0) _exit(0);
  // From here on we are a child: a failure can only end the process.
  if (setsid() < 0) _exit(1);
  pid = fork();
  if (pid < 0) _exit(1);
  if (pid > 0) _exit(0);
  if (chdir("/") != 0) _exit(1);
  umask(027);
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) _exit(1);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (dup2(null.get(), fd) < 0) _exit(1);
  }
  return Status::Ok();
}

}  // namespace ec::daemon
