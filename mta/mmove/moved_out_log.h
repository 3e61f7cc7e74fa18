// MovedOutLog: the sender's durable note of the moves whose commit may have reached a receiver
// (docs/mmove.md, "Durability"). Once `mmove commit` has gone out without an answer, the
// receiver may hold the message: delivering our copy, or moving it to another node, could then
// send it twice. So before each commit the mover appends `M <node> <id>` (fdatasync), and a
// message so noted moves only to that node again (answered "dup" if it had stored it) until it
// has left our spool; a restart reads the note back. An entry is settled (forgotten) once the
// spool removal after "stored"/"dup" is durable, or when the receiver said it did not store it;
// at open, entries whose message is no longer in the spool are dropped. The file is rewritten
// compacted at open and when it has grown to many times the live entries. Thread-safe (the
// mover's worker notes, its loop settles).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::mmove {

// Replays log text: sender queue id -> receiving node (pure; a torn or malformed line is
// skipped: its commit was never sent).
std::map<uint64_t, std::string> ReplayMovedOut(std::string_view text);

class MovedOutLog {
 public:
  // `in_spool(id)`: whether our spool still holds the message. `compact_floor`: lines the file
  // may hold beyond 4 x the live entries before it is rewritten (small in tests).
  static Result<std::unique_ptr<MovedOutLog>> Open(std::string path,
                                                   const std::function<bool(uint64_t)>& in_spool,
                                                   size_t compact_floor = 4096);
  ~MovedOutLog();
  MovedOutLog(const MovedOutLog&) = delete;
  MovedOutLog& operator=(const MovedOutLog&) = delete;

  // Durable before it returns; call before sending the commit.
  Status Note(uint64_t id, const std::string& node);
  void Settle(uint64_t id);
  // Settles `ids` durably (the file rewritten) before it returns: the operator released them
  // (`cluster mmove release`), so a restart must not put them in doubt again although they are
  // still in the spool. On error nothing is settled.
  Status Release(const std::vector<uint64_t>& ids);
  // The messages in doubt now: id -> node.
  std::map<uint64_t, std::string> entries() const;

 private:
  MovedOutLog(std::string path, size_t compact_floor)
      : path_(std::move(path)), compact_floor_(compact_floor) {}
  Status RewriteLocked();

  const std::string path_;
  const size_t compact_floor_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::string> entries_;  // guarded by mu_
  int fd_ = -1;                              // guarded by mu_
  size_t lines_ = 0;                         // guarded by mu_
};

}  // namespace ec::mmove
