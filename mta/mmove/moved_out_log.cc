#include "mta/mmove/moved_out_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

#include "common/base/atomic_file.h"
#include "common/base/split.h"

namespace ec::mmove {
namespace {

// Compact once the file holds this many lines per live entry (plus a floor).
constexpr size_t kMovedOutCompactFactor = 4;

std::string MovedOutLine(uint64_t id, const std::string& node) {
  return "M " + node + " " + std::to_string(id) + "\n";
}

bool MovedOutNode(std::string_view node) {
  if (node.empty() || node.size() > 255) return false;
  for (char c : node) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::map<uint64_t, std::string> ReplayMovedOut(std::string_view text) {
  std::map<uint64_t, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // torn last line: its commit never went out
    std::vector<std::string_view> f = SplitFields(text.substr(pos, nl - pos));
    pos = nl + 1;
    uint64_t id = 0;
    if (f.size() != 3 || f[0] != "M" || !MovedOutNode(f[1])) continue;
    auto [ptr, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), id);
    if (f[2].empty() || ec != std::errc() || ptr != f[2].data() + f[2].size()) continue;
    out[id] = std::string(f[1]);  // the latest move of a message names its node
  }
  return out;
}

Result<std::unique_ptr<MovedOutLog>> MovedOutLog::Open(
    std::string path, const std::function<bool(uint64_t)>& in_spool, size_t compact_floor) {
  std::unique_ptr<MovedOutLog> log(new MovedOutLog(std::move(path), compact_floor));
  std::ifstream in(log->path_, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    log->entries_ = ReplayMovedOut(text.str());
  }
  std::erase_if(log->entries_, [&in_spool](const auto& e) { return !in_spool(e.first); });
  std::lock_guard<std::mutex> lock(log->mu_);
  EC_RETURN_IF_ERROR(log->RewriteLocked());
  return log;
}

MovedOutLog::~MovedOutLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status MovedOutLog::Note(uint64_t id, const std::string& node) {
  if (!MovedOutNode(node)) return InvalidArgument("mmove: bad node name");
  std::lock_guard<std::mutex> lock(mu_);
  if (lines_ > compact_floor_ + kMovedOutCompactFactor * entries_.size()) {
    EC_RETURN_IF_ERROR(RewriteLocked());
  }
  const std::string line = MovedOutLine(id, node);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + path_, errno);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
  ++lines_;
  entries_[id] = node;
  return Status::Ok();
}

void MovedOutLog::Settle(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(id);  // the line goes at the next rewrite
}

Status MovedOutLog::Release(const std::vector<uint64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<uint64_t, std::string> before = entries_;
  for (uint64_t id : ids) entries_.erase(id);
  Status s = RewriteLocked();
  if (!s.ok()) entries_ = std::move(before);
  return s;
}

std::map<uint64_t, std::string> MovedOutLog::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

Status MovedOutLog::RewriteLocked() {
  std::string text;
  for (const auto& [id, node] : entries_) text += MovedOutLine(id, node);
  EC_RETURN_IF_ERROR(WriteFileAtomically(path_, text, 0600));
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoStatus("open " + path_, errno);
  lines_ = entries_.size();
  return Status::Ok();
}

}  // namespace ec::mmove
