// PidFile: the "one instance per pid file" guard of a daemon. Acquire() opens (creating) the
// file, takes an exclusive flock(2) on it, and writes our pid; the lock, not the file's
// presence, decides who runs, so a file left by a crashed daemon is stale and taken over (the
// old pid is checked with kill(pid, 0) only to say which case it was). A second instance gets
// a clear error naming the running pid. The lock lives as long as the PidFile; destroying it
// removes the file if it is still ours. Acquire after Daemonize() (the pid changes there).
// Not thread-safe; one owner, normally main().
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/daemon/unique_fd.h"

namespace ec::daemon {

class PidFile {
 public:
  static Result<std::unique_ptr<PidFile>> Acquire(std::string path);
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  const std::string& path() const { return path_; }

 private:
  PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
};

// The pid stored in a pid file, or an error if it is missing or not a positive number.
Result<pid_t> ReadPidFile(const std::string& path);
// kill(pid, 0): true if a process with that pid exists (even one we may not signal).
bool ProcessExists(pid_t pid);

}  // namespace ec::daemon
