#include "ecconfigd/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "common/daemon/ownership.h"

namespace ec::ecconfigd {

Result<FileLock> FileLock::Acquire(const std::filesystem::path& path,
                                   std::chrono::milliseconds timeout) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("opening lock " + path.string(), errno);
  FileLock lock(fd);
  // A command run as root (enroll, revoke, passwd) must not leave a lock file the daemon, run as
  // its user, cannot open again.
  EC_RETURN_IF_ERROR(daemon::GiveToDirectoryOwner(path));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return ErrnoStatus("locking " + path.string(), errno);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(StatusCode::kDeadlineExceeded,
                    path.string() + " is locked by another process (another pull or commit?)");
    }
    // Polling keeps the deadline simple; flock has no timed wait.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  return lock;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace ec::ecconfigd
