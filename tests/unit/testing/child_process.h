// Starting a helper program for a kill -9 test and reading what it prints (the spool and
// #mmove crash tests). Test code: a pipe or fork that fails aborts the test binary.
#ifndef EC_TESTS_UNIT_TESTING_CHILD_PROCESS_H_
#define EC_TESTS_UNIT_TESTING_CHILD_PROCESS_H_

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/base/check.h"

namespace ec::testutil {

// Runs `path` with `args` (argv[0] is `path`), its stdout into a pipe whose read end goes to
// *stdout_fd (closed when stdout_fd is null). Returns its pid.
inline pid_t SpawnWithStdoutPipe(const std::string& path, const std::vector<std::string>& args,
                                 int* stdout_fd) {
  // Built before fork: the child of a threaded test binary may only exec.
  std::vector<std::string> strings = {path};
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  EC_CHECK(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  EC_CHECK(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (stdout_fd) {
    *stdout_fd = fds[0];
  } else {
    ::close(fds[0]);
  }
  return pid;
}

}  // namespace ec::testutil

#endif  // EC_TESTS_UNIT_TESTING_CHILD_PROCESS_H_
