#include "common/log/line_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ec::log {

Status WriteWhole(int fd, std::string_view data) {
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("write", errno);
  if (static_cast<size_t>(n) != data.size()) {
    return ResourceExhausted("short write: " + std::to_string(n) + " of " +
                             std::to_string(data.size()) + " bytes");
  }
  return Status::Ok();
}

Result<daemon::UniqueFd> LineFile::OpenFd(const std::string& path, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return daemon::UniqueFd(fd);
}

Result<std::unique_ptr<LineFile>> LineFile::Open(std::string path, mode_t mode) {
  EC_ASSIGN_OR_RETURN(daemon::UniqueFd fd, OpenFd(path, mode));
  return std::unique_ptr<LineFile>(new LineFile(std::move(path), mode, std::move(fd)));
}

LineFile::LineFile(std::string path, mode_t mode, daemon::UniqueFd fd)
    : path_(std::move(path)), mode_(mode), fd_(std::move(fd)) {}

Status LineFile::Append(std::string_view line) {
  std::string buf;
  std::string_view out = line;
  if (line.empty() || line.back() != '\n') {
    buf.reserve(line.size() + 1);
    buf.append(line);
    buf.push_back('\n');
    out = buf;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return WriteWhole(fd_.get(), out).WithContext(path_);
}

Status LineFile::Reopen() {
  EC_ASSIGN_OR_RETURN(daemon::UniqueFd fd, OpenFd(path_, mode_));
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = std::move(fd);
  return Status::Ok();
}

}  // namespace ec::log
