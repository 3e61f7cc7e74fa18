#include "mta/spool/file_io.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ec::spool {

Status PwritevAll(const IoHooks& hooks, int fd, std::vector<struct iovec> iov, off_t offset,
                  const std::string& what) {
  size_t first = 0;
  while (first < iov.size()) {
    if (iov[first].iov_len == 0) {
      ++first;
      continue;
    }
    const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = hooks.pwritev ? hooks.pwritev(fd, &iov[first], count, offset)
                              : ::pwritev(fd, &iov[first], count, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing " + what, errno);
    }
    if (n == 0) return ErrnoStatus("writing " + what, EIO);
    offset += n;
    // Skip what was written: whole vectors, then part of the next one.
    size_t left = static_cast<size_t>(n);
    while (left > 0 && first < iov.size()) {
      if (left >= iov[first].iov_len) {
        left -= iov[first].iov_len;
        ++first;
      } else {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
        left = 0;
      }
    }
  }
  return Status::Ok();
}

Status DataSync(const IoHooks& hooks, int fd, const std::string& what) {
  int rc;
  do {
    rc = hooks.fdatasync ? hooks.fdatasync(fd) : ::fdatasync(fd);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) return ErrnoStatus("syncing " + what, errno);
  return Status::Ok();
}

Status SyncDirectory(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("syncing directory " + dir, errno);
  return Status::Ok();
}

}  // namespace ec::spool
