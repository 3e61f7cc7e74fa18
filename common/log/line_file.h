// LineFile: an append-only text file that receives whole lines (the debug log here; mainlog,
// rejectlog and the other Momentum-style logs later). Each Append is a single write(2) on an
// O_APPEND descriptor, so lines from several threads or processes never interleave. Reopen()
// closes and reopens the path, for logrotate's rename-then-SIGHUP dance.
// Thread-safe: Append and Reopen may be called from any thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/daemon/unique_fd.h"

namespace ec::log {

class LineFile {
 public:
  // Opens (creating with `mode` if missing) `path` for appending.
  static Result<std::unique_ptr<LineFile>> Open(std::string path, mode_t mode = 0640);

  LineFile(const LineFile&) = delete;
  LineFile& operator=(const LineFile&) = delete;

  // Appends `line` plus a newline if it lacks one, with one write(2). A short write (disk full)
  // is reported; the partial line is not retried so the file never holds a line twice.
  Status Append(std::string_view line);
  // Opens the path again and swaps descriptors; on failure the old descriptor stays in use.
  Status Reopen();
  const std::string& path() const { return path_; }

 private:
  LineFile(std::string path, mode_t mode, daemon::UniqueFd fd);
  static Result<daemon::UniqueFd> OpenFd(const std::string& path, mode_t mode);

  const std::string path_;
  const mode_t mode_;
  std::mutex mu_;
  daemon::UniqueFd fd_;  // guarded by mu_
};

// Writes `data` with one write(2) (retrying EINTR); an error if not all of it was written.
Status WriteWhole(int fd, std::string_view data);

}  // namespace ec::log
