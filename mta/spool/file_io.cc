#include "mta/spool/file_io.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

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

namespace {

// Copies `len` bytes of `in` from `in_offset` to `out` at `out_offset`.
Status CopyRange(const IoHooks& hooks, int in, uint64_t in_offset, int out, off_t out_offset,
                 uint64_t len, const std::string& what) {
  bool kernel_copy = !hooks.pwritev;  // injected write failures must see every byte
  std::string buffer;
  while (len > 0) {
    if (kernel_copy) {
      loff_t from = static_cast<loff_t>(in_offset), to = out_offset;
      const ssize_t n = ::copy_file_range(in, &from, out, &to, len, 0);
      if (n > 0) {
        in_offset += static_cast<uint64_t>(n);
        out_offset += n;
        len -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                    errno == EPERM || errno == EBADF)) {
        kernel_copy = false;  // another file system, or a kernel without it: copy by hand
        continue;
      }
      if (n == 0) return ErrnoStatus("copying into " + what + ": source too short", EIO);
      return ErrnoStatus("copying into " + what, errno);
    }
    if (buffer.empty()) buffer.resize(256 << 10);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(len, buffer.size()));
    const ssize_t n = ::pread(in, buffer.data(), want, static_cast<off_t>(in_offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading body for " + what, errno);
    if (n == 0) return ErrnoStatus("copying into " + what + ": source too short", EIO);
    EC_RETURN_IF_ERROR(
        PwritevAll(hooks, out, {{buffer.data(), static_cast<size_t>(n)}}, out_offset, what));
    in_offset += static_cast<uint64_t>(n);
    out_offset += n;
    len -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WritePiecesAt(const IoHooks& hooks, int fd, const std::vector<WritePiece>& pieces,
                     off_t offset, const std::string& what) {
  std::vector<struct iovec> run;
  size_t run_bytes = 0;
  auto flush = [&]() -> Status {
    if (run.empty()) return Status::Ok();
    Status s = PwritevAll(hooks, fd, std::move(run), offset, what);
    offset += static_cast<off_t>(run_bytes);
    run.clear();
    run_bytes = 0;
    return s;
  };
  for (const WritePiece& p : pieces) {
    if (p.len == 0) continue;
    if (p.fd < 0) {
      run.push_back({const_cast<char*>(p.data), p.len});
      run_bytes += p.len;
      continue;
    }
    EC_RETURN_IF_ERROR(flush());
    EC_RETURN_IF_ERROR(CopyRange(hooks, p.fd, p.offset, fd, offset, p.len, what));
    offset += static_cast<off_t>(p.len);
  }
  return flush();
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
