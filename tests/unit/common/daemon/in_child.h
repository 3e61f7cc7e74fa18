// InChild: runs a test body in a forked child, for steps that cannot be undone (a privilege
// drop). Test-only; called from the test's main thread.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

namespace ec::daemon {

// Runs `body` in a forked child and returns its exit status (or -1 if it did not exit).
template <typename F>
int InChild(F body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace ec::daemon
