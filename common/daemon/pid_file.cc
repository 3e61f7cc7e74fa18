#include "common/daemon/pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "common/log/logger.h"

namespace ec::daemon {
namespace {

Result<pid_t> ParsePid(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return InvalidArgument("does not hold a pid");
  }
  return static_cast<pid_t>(value);
}

Result<std::string> ReadSmall(int fd) {
  char buf[64];
  ssize_t n = pread(fd, buf, sizeof(buf), 0);
  if (n < 0) return ErrnoStatus("read", errno);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

bool ProcessExists(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

Result<pid_t> ReadPidFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open " + path, errno);
  EC_ASSIGN_OR_RETURN(std::string text, ReadSmall(fd.get()));
  Result<pid_t> pid = ParsePid(text);
  if (!pid.ok()) return pid.status().WithContext(path);
  return pid;
}

Result<std::unique_ptr<PidFile>> PidFile::Acquire(std::string path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus("open pid file " + path, errno);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoStatus("lock pid file " + path, errno);
    Result<std::string> text = ReadSmall(fd.get());
    Result<pid_t> holder = text.ok() ? ParsePid(*text) : Result<pid_t>(text.status());
    std::string who = holder.ok() ? "pid " + std::to_string(*holder) : "another process";
    return Status(StatusCode::kAlreadyExists,
                  "already running: " + who + " holds the lock on " + path);
  }
  // We hold the lock: whatever pid the file names is not running this daemon any more.
  Result<std::string> old_text = ReadSmall(fd.get());
  if (old_text.ok() && !old_text->empty()) {
    Result<pid_t> old_pid = ParsePid(*old_text);
    if (old_pid.ok() && ProcessExists(*old_pid) && *old_pid != getpid()) {
      EC_LOG(kWarn, "pid file names a live process that does not hold its lock; taking over")
          .Field("path", path)
          .Field("old_pid", *old_pid);
    } else {
      EC_LOG(kInfo, "replacing stale pid file").Field("path", path).Field("old", *old_text);
    }
  }
  if (ftruncate(fd.get(), 0) != 0) return ErrnoStatus("truncate " + path, errno);
  std::string line = std::to_string(getpid()) + "\n";
  if (pwrite(fd.get(), line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    return ErrnoStatus("write " + path, errno);
  }
  return std::unique_ptr<PidFile>(new PidFile(std::move(path), std::move(fd)));
}

PidFile::~PidFile() {
  // Remove the file only if the path still names the file we locked.
  struct stat ours {};
  struct stat now {};
  if (fstat(fd_.get(), &ours) == 0 && stat(path_.c_str(), &now) == 0 && ours.st_dev == now.st_dev &&
      ours.st_ino == now.st_ino) {
    unlink(path_.c_str());
  }
}

}  // namespace ec::daemon
