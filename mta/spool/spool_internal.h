// Private parts of Spool shared by spool.cc (API and committer) and spool_recovery.cc (Open).
// Not for use outside mta/spool.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mta/spool/record.h"
#include "mta/spool/spool.h"

namespace ec::spool {

// One segment file. The counters (guarded by Spool::mu_) say how much of it is still indexed;
// the fd stays open for reads until the last reader drops its shared_ptr, even after the file
// is unlinked.
struct Spool::Segment {
  uint64_t seq = 0;
  std::string path;
  Fd fd;
  uint64_t end = 0;  // bytes in the file that hold whole records (or the header)
  size_t live = 0;   // indexed messages
  uint64_t live_bytes = 0;
  bool compaction_failed = false;  // a record could not be moved; do not try again

  static uint64_t RecordSize(const Entry& e) {
    return kRecordHeaderSize + uint64_t{e.meta_len} + e.body_len;
  }
  void Add(const Entry& e) {
    live++;
    live_bytes += RecordSize(e);
  }
  // True when the segment became dead.
  bool Drop(const Entry& e) {
    live--;
    live_bytes -= RecordSize(e);
    return live == 0;
  }
};

// A request waiting for the committer.
struct Spool::Op {
  RecordType type = RecordType::kMessage;
  QueueId id;         // kMessage: chosen by the caller, or invalid to assign one
  Envelope envelope;  // kMessage
  std::string body;   // kMessage: the content, or its prefix when `incoming` is set
  // kMessage: the rest of the content, if streamed. Shared only so that Op stays copyable for
  // std::function; the committer drops it before the completions are posted.
  std::shared_ptr<IncomingBody> incoming;
  SubmitCallback submitted;
  UpdateMeta update;  // kUpdate
  QueueId remove_id;  // kRemove
  DoneCallback done;  // kUpdate, kRemove

  uint64_t BodySize() const { return body.size() + (incoming ? incoming->size() : 0); }
  uint64_t ApproxBytes() const { return kRecordHeaderSize + 256 + BodySize(); }
};

inline constexpr char kSegmentSuffix[] = ".seg";
inline constexpr char kTempSuffix[] = ".tmp";
inline constexpr char kCorruptSuffix[] = ".corrupt";
inline constexpr char kLockName[] = "lock";

}  // namespace ec::spool
