// An exclusive advisory lock on a file (flock(2)), held for the owner's lifetime. The kernel drops
// it when the process dies, so a kill -9 never leaves a stale lock behind. Used to serialise
// pushes on a repository and pulls/commits on a working copy across processes.
#pragma once

#include <chrono>
#include <filesystem>

#include "common/base/status.h"

namespace ec::ecconfigd {

class FileLock {
 public:
  // Blocks until the lock is held or `timeout` passes (DeadlineExceeded). Creates the file,
  // owned (when run as root) by its directory's owner.
  static Result<FileLock> Acquire(const std::filesystem::path& path,
                                  std::chrono::milliseconds timeout);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ec::ecconfigd
