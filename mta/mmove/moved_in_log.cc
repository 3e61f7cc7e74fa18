#include "mta/mmove/moved_in_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/base/atomic_file.h"
#include "common/base/split.h"

namespace ec::mmove {
namespace {

// Compact once the file holds this many lines per live entry (plus a floor).
constexpr size_t kCompactFactor = 4;
constexpr size_t kCompactFloor = 4096;

template <typename T>
bool MovedInNumber(std::string_view word, T* out) {
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), *out);
  return !word.empty() && ec == std::errc() && ptr == word.data() + word.size();
}

bool ValidNode(std::string_view node) {
  if (node.empty() || node.size() > 255) return false;
  for (char c : node) {
    if (c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

std::string IntentLine(const MoveKey& k, const MovedInEntry& e) {
  return "I " + k.first + " " + std::to_string(k.second) + " " + std::to_string(e.receiver_id) +
         " " + std::to_string(e.at_us) + "\n";
}

std::string CommitLine(const MoveKey& k, int64_t at_us) {
  return "C " + k.first + " " + std::to_string(k.second) + " " + std::to_string(at_us) + "\n";
}

}  // namespace

std::map<MoveKey, MovedInEntry> ReplayMovedIn(std::string_view text) {
  std::map<MoveKey, MovedInEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // torn last line: never acknowledged
    std::vector<std::string_view> f = SplitFields(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (f.size() < 3 || !ValidNode(f[1])) continue;
    MoveKey key{std::string(f[1]), 0};
    if (!MovedInNumber(f[2], &key.second)) continue;
    if (f[0] == "I" && f.size() == 5) {
      MovedInEntry e;
      if (!MovedInNumber(f[3], &e.receiver_id) || !MovedInNumber(f[4], &e.at_us)) continue;
      out.emplace(key, e);  // an intent never replaces an existing entry
    } else if (f[0] == "C" && f.size() == 4) {
      int64_t at = 0;
      auto it = out.find(key);
      if (it == out.end() || !MovedInNumber(f[3], &at)) continue;
      it->second.committed = true;
      it->second.at_us = at;
    } else if (f[0] == "F" && f.size() == 3) {
      auto it = out.find(key);
      if (it != out.end() && !it->second.committed) out.erase(it);
    }
  }
  return out;
}

Result<std::unique_ptr<MovedInLog>> MovedInLog::Open(MovedInLogOptions options, int64_t now_us,
                                                     const std::function<bool(uint64_t)>& stored) {
  std::unique_ptr<MovedInLog> log(new MovedInLog(std::move(options)));
  std::ifstream in(log->options_.path, std::ios::binary);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    log->entries_ = ReplayMovedIn(text.str());
  }
  for (auto it = log->entries_.begin(); it != log->entries_.end();) {
    if (!it->second.committed) {
      if (!stored(it->second.receiver_id)) {
        it = log->entries_.erase(it);
        continue;
      }
      it->second.committed = true;
      it->second.at_us = now_us;
    }
    ++it;
  }
  log->Expire(now_us);
  EC_RETURN_IF_ERROR(log->Rewrite());
  return log;
}

MovedInLog::~MovedInLog() {
  if (fd_ >= 0) ::close(fd_);
}

const MovedInEntry* MovedInLog::Find(const MoveKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

Status MovedInLog::Intent(const MoveKey& key, uint64_t receiver_id, int64_t now_us) {
  if (!ValidNode(key.first)) return InvalidArgument("mmove: bad sender node name");
  if (entries_.count(key)) return Status(StatusCode::kAlreadyExists, "mmove: already moved in");
  if (entries_.size() >= options_.max_entries && Expire(now_us) == 0) {
    return ResourceExhausted("mmove: moved-in record full (" +
                             std::to_string(options_.max_entries) + " entries)");
  }
  MovedInEntry e{.receiver_id = receiver_id, .at_us = now_us};
  EC_RETURN_IF_ERROR(Append(IntentLine(key, e)));
  entries_.emplace(key, e);
  return Status::Ok();
}

Status MovedInLog::Commit(const MoveKey& key, int64_t now_us) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return NotFound("mmove: no intent to commit");
  EC_RETURN_IF_ERROR(Append(CommitLine(key, now_us)));
  it->second.committed = true;
  it->second.at_us = now_us;
  return Status::Ok();
}

Status MovedInLog::Forget(const MoveKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.committed) return Status::Ok();
  EC_RETURN_IF_ERROR(Append("F " + key.first + " " + std::to_string(key.second) + "\n"));
  entries_.erase(it);
  return Status::Ok();
}

size_t MovedInLog::Expire(int64_t now_us) {
  const int64_t window_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.window).count();
  size_t n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.committed && it->second.at_us + window_us < now_us) {
      it = entries_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

Status MovedInLog::Append(const std::string& line) {
  if (lines_ > kCompactFloor + kCompactFactor * entries_.size()) EC_RETURN_IF_ERROR(Rewrite());
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + options_.path, errno);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + options_.path, errno);
  ++lines_;
  return Status::Ok();
}

Status MovedInLog::Rewrite() {
  std::string text;
  for (const auto& [key, e] : entries_) {
    text += IntentLine(key, e);
    if (e.committed) text += CommitLine(key, e.at_us);
  }
  EC_RETURN_IF_ERROR(WriteFileAtomically(options_.path, text, 0600));
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoStatus("open " + options_.path, errno);
  lines_ = 0;
  for (const auto& [key, e] : entries_) lines_ += e.committed ? 2 : 1;
  return Status::Ok();
}

}  // namespace ec::mmove
