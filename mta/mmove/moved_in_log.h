// MovedInLog: the receiver's durable, bounded record of the messages moved in to it, keyed by
// (sender node, sender queue id), so a move retried after either side died is recognised and
// not stored twice (docs/mmove.md, "Durability"). An append-only text file, one fdatasync per
// change:
//
//   I <node> <sender id> <receiver id> <at us>   intent: receiver id reserved, not yet spooled
//   C <node> <sender id> <at us>                 committed: the message is in the spool
//   F <node> <sender id>                         forgotten: the store failed, a retry may store
//
// The receiver writes I, then stores the message under the receiver id (spool fsync), then C,
// then answers. Open() settles every I without a C (we died between): committed if the spool
// holds the receiver id, else forgotten; as nothing is scheduled before its C, a message in that
// gap was never delivered. Entries are kept `window` after their commit, then dropped; at
// `max_entries` new moves are refused (the sender keeps and delivers, or retries later) rather
// than forgetting early. The file is rewritten compacted at open and when it has grown to many
// times the live entries. Not thread-safe: the owner's loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/base/status.h"

namespace ec::mmove {

struct MovedInEntry {
  uint64_t receiver_id = 0;
  int64_t at_us = 0;  // of the intent, then of the commit
  bool committed = false;

  bool operator==(const MovedInEntry&) const = default;
};

using MoveKey = std::pair<std::string, uint64_t>;  // sender node, sender queue id

struct MovedInLogOptions {
  std::string path;
  std::chrono::seconds window{std::chrono::hours(24 * 7)};
  size_t max_entries = 1000000;
};

// Replays log text into entries (pure; a torn or malformed line is skipped, so a crash mid-
// append loses at most the change being written, which was never answered).
std::map<MoveKey, MovedInEntry> ReplayMovedIn(std::string_view text);

class MovedInLog {
 public:
  // `stored(receiver id)`: whether the spool holds that message (settles open intents).
  static Result<std::unique_ptr<MovedInLog>> Open(MovedInLogOptions options, int64_t now_us,
                                                  const std::function<bool(uint64_t)>& stored);
  ~MovedInLog();
  MovedInLog(const MovedInLog&) = delete;
  MovedInLog& operator=(const MovedInLog&) = delete;

  const MovedInEntry* Find(const MoveKey& key) const;
  // kResourceExhausted at max_entries; kAlreadyExists if the key has an entry.
  Status Intent(const MoveKey& key, uint64_t receiver_id, int64_t now_us);
  Status Commit(const MoveKey& key, int64_t now_us);
  Status Forget(const MoveKey& key);
  // Drops committed entries older than the window; returns how many.
  size_t Expire(int64_t now_us);
  size_t size() const { return entries_.size(); }

 private:
  explicit MovedInLog(MovedInLogOptions options) : options_(std::move(options)) {}
  Status Append(const std::string& line);
  Status Rewrite();

  MovedInLogOptions options_;
  std::map<MoveKey, MovedInEntry> entries_;
  int fd_ = -1;
  size_t lines_ = 0;  // in the file now
};

}  // namespace ec::mmove
