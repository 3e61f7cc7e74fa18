// Small POSIX helpers for the spool: write-everything loops, directory
// sync, and IoHooks, the seam through which tests inject write and sync failures (ENOSPC, EIO)
// without a full disk. Thread-compatible; the hooks are called on the spool's committer thread.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/unique_fd.h"

namespace ec::spool {

// The spool owns its segment and lock descriptors like every other file we hold.
using Fd = daemon::UniqueFd;

// Replacements for the syscalls the committer uses to write and sync spool data. An empty
// member means the real call. A hook returns what the syscall would and sets errno on failure.
struct IoHooks {
  std::function<ssize_t(int fd, const struct iovec* iov, int iovcnt, off_t offset)> pwritev;
  std::function<int(int fd)> fdatasync;
};

// Writes every byte of `iov` at `offset`, resuming after short writes.
Status PwritevAll(const IoHooks& hooks, int fd, std::vector<struct iovec> iov, off_t offset,
                  const std::string& what);
Status DataSync(const IoHooks& hooks, int fd, const std::string& what);
// fsync of a directory, so entries created, renamed or removed in it are durable.
Status SyncDirectory(const std::string& dir);

}  // namespace ec::spool
