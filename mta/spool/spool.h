// Spool: the durable message store of ecmta. An accepted message is appended to the active
// segment file under `spoolbase` and synced (data, and the directory entry of every new segment)
// before its Submit callback reports success, which is when the SMTP side may say 250. A single
// committer thread writes and syncs everything pending in one batch (group commit), so one
// fdatasync serves every session that submitted while the previous sync ran. See docs/spool.md.
//
// Ownership and threads: the Spool owns its files, the committer thread and an in-memory index
// (queue id -> location and per-recipient state; envelopes and bodies stay on disk). Every
// public method is thread-safe. Callbacks run through SpoolOptions::post (e.g. onto the SMTP
// loop), or on the committer thread when post is empty; they must not block. Destroying the
// Spool commits what is pending, runs its callbacks, then joins the committer.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/base/status.h"
#include "mta/spool/envelope.h"
#include "mta/spool/file_io.h"
#include "mta/spool/incoming_body.h"
#include "mta/spool/lone_writer_gauge.h"
#include "mta/spool/message_route.h"
#include "mta/spool/queue_id.h"
#include "mta/spool/state_list.h"
#include "mta/spool/zero_ahead.h"

namespace ec::spool {

struct SpoolOptions {
  std::string spoolbase;    // created if missing
  mode_t file_mode = 0640;  // spool_mode
  // fdatasync before completing (Momentum's force_fsync, but on by default here). Off only for
  // tests and benchmarks: a crash of the OS may then lose accepted mail.
  bool sync = true;
  uint64_t segment_bytes = 64ull << 20;  // start a new segment file past this size
  // With `sync`, keep the active segment zero-filled (and synced) this far past its last
  // record, on a thread of its own (ZeroAhead), so each group commit's fdatasync writes data,
  // not file-size and extent changes. 0 turns it off; it is off on tmpfs, where a sync is free.
  uint64_t zero_ahead_bytes = 8u << 20;
  size_t max_batch_messages = 4096;      // per group commit
  size_t max_batch_bytes = 32u << 20;
  // Keep each recovered message's route from Open's scan until ForEachRoute (ecmta's scheduler
  // calls it once at start); off, ForEachRoute reads every envelope.
  bool keep_routes = false;
  // Runs a completion on the caller's thread (e.g. posts it to the libevent loop).
  std::function<void(std::function<void()>)> post;
  // One line per event ("spool: event=... key=value"); empty means stderr.
  std::function<void(std::string_view)> log;
  IoHooks io;  // tests only
};

// A committed message as recovery and ReadMessage see it; the body is read with ReadBody.
struct SpooledMessage {
  QueueId id;
  Envelope envelope;
  std::vector<RecipientState> states;  // current, one per envelope recipient
};

struct SpoolStats {
  uint64_t messages_committed = 0;
  uint64_t records_committed = 0;  // messages + updates + removes
  uint64_t batches = 0;            // group commits that succeeded, each one sync of the data
  uint64_t failed_batches = 0;
  uint64_t largest_batch = 0;  // messages in the biggest batch
  uint64_t bytes_written = 0;
  uint64_t segments_created = 0;
  uint64_t segments_deleted = 0;
  uint64_t messages_moved = 0;  // copied forward by compaction
};

class Spool {
 public:
  using SubmitCallback = std::function<void(Result<QueueId>)>;
  using DoneCallback = std::function<void(Status)>;

  // An Update or Remove without a `durable` callback is written as soon as the committer
  // takes it (a kill -9 after that keeps it) but synced with the next batch that syncs anyway,
  // or after this long: no mail is acknowledged by it, and an OS crash before the sync only
  // repeats a delivery. See docs/spool.md.
  static constexpr std::chrono::milliseconds kDeferredSyncDelay{20};

  // Opens or creates the spool: scans every segment, drops torn tails, skips damaged records
  // (keeping a .corrupt copy; logging each), rebuilds the index and starts the committer. Fails
  // if another process holds the spool.
  static Result<std::unique_ptr<Spool>> Open(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Stores a message. `done` gets the queue id once the message is durable, or an error:
  // ResourceExhausted when the disk is full (reply 452 4.3.1), another code for other failures
  // (reply 451). On failure nothing of the message remains visible.
  void Submit(Envelope envelope, std::string body, SubmitCallback done);
  // The same with an id taken earlier from NewId() (so the SMTP side can log it before the
  // message is stored); an invalid QueueId() means "assign one".
  void Submit(QueueId id, Envelope envelope, std::string body, SubmitCallback done);
  // The same for a message received as a stream: its content is `prefix` (e.g. the trace
  // headers added at reception) followed by `body`. Finishes `body` on the caller's thread (its
  // buffered tail); a body that failed (disk full while receiving) fails the submit the same way
  // a failed commit does. The committer copies a spilled body into the segment without holding
  // it in memory (copy_file_range) and syncs it with the batch: durability is as for Submit.
  void Submit(QueueId id, Envelope envelope, std::string prefix, std::unique_ptr<IncomingBody> body,
              SubmitCallback done);
  // An empty body to fill while a message is received, then to hand to Submit.
  std::unique_ptr<IncomingBody> NewIncomingBody() const {
    return std::make_unique<IncomingBody>(options_.spoolbase, options_.io);
  }
  // A fresh queue id, unique across restarts like every id the spool assigns.
  QueueId NewId() { return ids_.Next(); }

  // Changes recipient states now (readers see it at once) and journals the change; `durable`,
  // if given, runs once it is synced (without it, see kDeferredSyncDelay). If the journal write
  // fails the state still holds in memory and a crash reverts to the earlier state: a delivery
  // may repeat, none is skipped.
  Status Update(QueueId id, std::vector<RecipientUpdate> updates, DoneCallback durable = nullptr);
  // Forgets a message whose delivery is final. Its space is reclaimed when its whole segment and
  // all older ones are dead. A crash before `durable` may bring it back (redelivery, never loss).
  Status Remove(QueueId id, DoneCallback durable = nullptr);

  Result<std::string> ReadBody(QueueId id) const;
  // Envelope (read from disk) and current recipient states; with `body`, the body too, read
  // with the same system call (the delivery path).
  Result<SpooledMessage> ReadMessage(QueueId id, std::string* body = nullptr) const;
  // Every message in id order, envelopes read one at a time, so a large queue does not have to
  // fit in memory twice. Stops at the first read error.
  Status ForEachMessage(const std::function<void(SpooledMessage&&)>& visit) const;
  std::vector<QueueId> ListIds() const;  // sorted
  // Every message in id order with its route and current recipient states: what the outbound
  // queue needs at start. Open's scan kept each recovered message's route (a few distinct ones
  // serve a million messages), so a large spool is not read a second time; a message without a
  // kept route (one submitted or removed since Open, or past RouteTable's bounds) is read from
  // disk. The first call releases the kept routes. Stops at the first read error.
  using RouteVisitor =
      std::function<void(QueueId, const MessageRoute&, std::span<const RecipientState>)>;
  Status ForEachRoute(const RouteVisitor& visit);
  size_t size() const;
  SpoolStats stats() const;
  const std::string& spoolbase() const { return options_.spoolbase; }

 private:
  struct Segment;
  struct Entry {
    uint64_t segment = 0;  // seq
    uint64_t offset = 0;   // of the record header in the segment file
    uint32_t meta_len = 0;
    uint32_t body_len = 0;
    StateList states;
  };
  // A queued message costs its index_ node (next pointer, key, 40-byte Entry: a 64-byte
  // allocation) and its bucket; bench/queue/README.md has the figures.
  static_assert(sizeof(Entry) == 40);
  struct Op;
  struct Batch;
  // Routes of the messages Open's scan found, for ForEachRoute.
  struct Recovered {
    RouteTable routes;
    std::vector<std::pair<QueueId, uint32_t>> messages;  // (id, route), in scan order
    // Removed since Open: such an id may be submitted again with another envelope.
    std::unordered_set<QueueId> removed;
  };

  explicit Spool(SpoolOptions options);
  Status Recover();
  Status RecoverSegment(uint64_t seq, const std::string& path);
  Status Enqueue(Op op);
  void CommitterLoop();
  void CommitBatch(std::vector<Op> ops);
  Status EnsureActiveSegment(size_t incoming_bytes);
  Status AppendAndSync(const std::vector<WritePiece>& pieces, bool sync = true);
  // Syncs the active segment if records were written to it without a sync.
  void SyncDeferred();
  Status CreateSegment(uint64_t seq);
  void RetireActiveSegment();
  // Stops zero-filling the active segment and cuts its zeros off (at retirement and close).
  void TrimActiveSegment();
  void CollectGarbage();
  Result<std::string> ReadRecord(QueueId id, std::string* body, Entry* entry_out) const;
  // Reads the header+meta of the record `entry` points at and, with `body`, its body in the
  // same system call, checking checksums; returns the header+meta.
  static Result<std::string> ReadAt(const Segment& seg, const Entry& entry, std::string* body);
  // The header+meta, or (`body` true) the body alone.
  static Result<std::string> ReadAt(const Segment& seg, const Entry& entry, bool body);
  bool MaybeCompact();
  void Post(std::function<void()> fn) const;
  void Log(const std::string& line) const;
  std::string SegmentPath(uint64_t seq) const;

  const SpoolOptions options_;
  Fd lock_fd_;
  QueueIdGenerator ids_;

  mutable std::mutex mu_;  // guards everything below up to the committer-only members
  std::condition_variable cv_;
  std::vector<Op> pending_;  // Op is complete in spool_internal.h
  bool stop_ = false;
  bool gc_wanted_ = false;
  std::unordered_map<QueueId, Entry> index_;
  std::map<uint64_t, std::shared_ptr<Segment>> segments_;
  std::unique_ptr<Recovered> recovered_;  // from Open until ForEachRoute takes it
  SpoolStats stats_;

  // Committer thread only (and Open, before the thread starts).
  std::shared_ptr<Segment> active_;
  uint64_t active_end_ = 0;  // where the next record goes
  bool unsynced_ = false;    // records in active_ written but not yet synced (delivery records)
  uint64_t next_seq_ = 1;
  std::unique_ptr<ZeroAhead> zero_ahead_;  // null when off
  LoneWriterGauge lone_writer_;            // pauses zero_ahead_ under concurrent load
  std::thread committer_;
};

}  // namespace ec::spool
