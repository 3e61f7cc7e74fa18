#include "common/base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/daemon/unique_fd.h"

namespace ec {

Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  daemon::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening directory " + dir, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("syncing directory " + dir, errno);
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  daemon::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return ErrnoStatus("creating " + tmp, errno);
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing " + tmp, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  if (::fdatasync(fd.get()) != 0) return ErrnoStatus("syncing " + tmp, errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoStatus("renaming " + tmp, errno);
  return SyncDirectoryOf(path);
}

}  // namespace ec
