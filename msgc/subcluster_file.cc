#include "msgc/subcluster_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "msgc/subcluster.h"

namespace ec::msgc {

Result<std::string> ReadSubcluster(const std::string& boot_file) {
  int fd = open(boot_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::string(kDefaultSubcluster);
  if (fd < 0) return FailedPrecondition("cannot open " + boot_file + ": " + std::strerror(errno));
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  // A cluster.boot is a few lines; a huge file is not one.
  while (text.size() < (1u << 20) && (n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  const int read_errno = errno;
  close(fd);
  if (n < 0)
    return FailedPrecondition("cannot read " + boot_file + ": " + std::strerror(read_errno));
  Result<std::string> subcluster = SubclusterFromClusterBoot(text);
  if (!subcluster.ok()) return subcluster.status().WithContext(boot_file);
  return subcluster;
}

}  // namespace ec::msgc
