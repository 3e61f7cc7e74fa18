// Journal: a node's log as a durable queue with a read cursor per subscriber (Momentum's jlog
// with `=>master`), so the manager pulls every line exactly once: it reads after its cursor,
// makes what it read durable on its side, then advances the cursor. Records are appended to
// segment files (journal_format.h) in one directory; a segment is removed once every subscriber
// has read past it, and when the journal outgrows `max_bytes` (the manager is away) the oldest
// segments are dropped and the loss is counted per subscriber, so a node's mail path never waits
// for its manager. Crash safety: segments and cursor files are created whole (temp file and
// rename); a kill -9 mid-append leaves at most a torn last record, which Open cuts off; cursors
// are written with fdatasync and rename, so after a crash a cursor is the old or the new one.
// One writer per directory (flock on <dir>/journal.lock). Not thread-safe: one thread (the
// owner's loop) at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/unique_fd.h"
#include "mta/journal/journal_format.h"

namespace ec::journal {

struct JournalOptions {
  std::string dir;
  uint64_t segment_bytes = 4u << 20;  // a new segment is started past this size
  uint64_t max_bytes = 256u << 20;    // disk bound; beyond it the oldest segments are dropped
  // Created at Open if missing, at the oldest record kept, so nothing is lost before they
  // first read ("=>master").
  std::vector<std::string> subscribers;
  bool sync_each_append = false;  // fdatasync after every Append (power-loss safety per line)
};

struct Entry {
  Position position;  // where the record starts
  Position next;      // what to Advance to once it is consumed
  std::string payload;
};

struct SubscriberStats {
  std::string name;
  Position position;
  uint64_t pending_bytes = 0;  // journal bytes after the cursor
  uint64_t dropped_bytes = 0;  // dropped unread by the disk bound since Open
};

struct JournalStats {
  uint64_t bytes = 0;  // on disk, headers included
  uint64_t segments = 0;
  Position end;                   // where the next record goes
  uint64_t records_appended = 0;  // since Open
  uint64_t dropped_bytes = 0;     // segments dropped by the disk bound since Open
  std::vector<SubscriberStats> subscribers;
};

class Journal {
 public:
  static Result<std::unique_ptr<Journal>> Open(JournalOptions options);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  // Appends one record (at most kMaxPayload bytes).
  Status Append(std::string_view payload);
  // Makes every appended record durable (fdatasync).
  Status Sync();

  // A new subscriber starts at the oldest record kept, or at the end; an existing one is kept.
  Status AddSubscriber(const std::string& name, bool at_end = false);
  Status RemoveSubscriber(const std::string& name);

  // Up to `max_records` records (and about `max_bytes`, at least one record) after `name`'s
  // cursor. Does not move the cursor.
  Result<std::vector<Entry>> Read(const std::string& name, size_t max_records,
                                  size_t max_bytes = 1u << 20);
  // Durably moves `name`'s cursor forward to `to` (an Entry's `next`), then removes segments
  // every subscriber has passed. `to` must be the start of a record or the end of the journal
  // (or of a segment); anything else is kInvalidArgument and the cursor stays. A `to` inside
  // segments the disk bound dropped after they were read is accepted and changes nothing (the
  // cursor is past them already).
  Status Advance(const std::string& name, const Position& to);

  JournalStats Stats() const;
  const std::string& dir() const { return options_.dir; }

 private:
  struct Subscriber {
    Position position;
    uint64_t dropped_bytes = 0;
  };
  explicit Journal(JournalOptions options) : options_(std::move(options)) {}
  Status Load();
  Status RecoverTail(uint64_t segment);
  Status CreateSegment(uint64_t segment);
  Status Roll();
  Status WriteCursor(const std::string& name, const Position& position);
  // OK if `to` (in a kept segment) starts a record or ends its segment; `from` is a boundary
  // (a cursor) to walk from when it lies before `to` in the same segment.
  Status CheckRecordStart(const Position& from, const Position& to);
  void EnforceBound();
  void Prune();
  // `p` moved past the ends of full segments to where the next record really is.
  Position Normalize(Position p) const;
  Position Oldest() const;
  Position End() const { return {write_segment_, write_offset_}; }
  Result<int> ReadFd(uint64_t segment);
  void RemoveSegment(uint64_t segment);
  std::string PathOf(const std::string& file) const { return options_.dir + "/" + file; }

  JournalOptions options_;
  daemon::UniqueFd lock_fd_;
  daemon::UniqueFd write_fd_;
  uint64_t write_segment_ = 0;
  uint64_t write_offset_ = 0;
  std::map<uint64_t, uint64_t> segments_;  // number -> valid bytes (header included)
  std::map<uint64_t, daemon::UniqueFd> read_fds_;
  std::map<std::string, Subscriber> subscribers_;
  uint64_t total_bytes_ = 0;
  uint64_t records_appended_ = 0;
  uint64_t dropped_bytes_ = 0;
};

}  // namespace ec::journal
