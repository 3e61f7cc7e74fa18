// Small POSIX helpers for the spool: write-everything loops (from memory or from another file),
// directory sync, and IoHooks, the seam through which tests inject write and sync failures (ENOSPC,
// EIO) without a full disk. Thread-compatible; the hooks are called on the spool's committer
// thread, and on the thread that fills an IncomingBody.
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
// One part of what is written: `len` bytes at `data`, or, when `fd` >= 0, `len` bytes of the
// file `fd` from `offset` (a message body that was received into a temporary file).
struct WritePiece {
  const char* data = nullptr;
  size_t len = 0;
  int fd = -1;
  uint64_t offset = 0;
};
// Writes the pieces one after another from `offset`: runs of memory pieces with one pwritev,
// file pieces with copy_file_range (the bytes stay in the kernel), or through a bounded buffer
// where the kernel cannot copy or IoHooks::pwritev is set.
Status WritePiecesAt(const IoHooks& hooks, int fd, const std::vector<WritePiece>& pieces,
                     off_t offset, const std::string& what);
Status DataSync(const IoHooks& hooks, int fd, const std::string& what);
// fsync of a directory, so entries created, renamed or removed in it are durable.
Status SyncDirectory(const std::string& dir);

}  // namespace ec::spool
