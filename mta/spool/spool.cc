// Spool's public API and its committer thread (group commit, segment rollover, reclaiming).
#include "mta/spool/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iterator>

#include "mta/spool/crc32c.h"
#include "mta/spool/spool_internal.h"

namespace ec::spool {
namespace {

// Fills `first` and then `second` (may be null) from `offset`, with one preadv where it can.
Status PreadExact(int fd, std::string* first, std::string* second, uint64_t offset,
                  const std::string& what) {
  struct iovec iov[2] = {{first->data(), first->size()},
                         {second ? second->data() : nullptr, second ? second->size() : 0}};
  int at = 0;
  while (at < 2) {
    if (iov[at].iov_len == 0) {
      ++at;
      continue;
    }
    ssize_t n = ::preadv(fd, &iov[at], 2 - at, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("reading " + what, errno);
    }
    if (n == 0) return Internal("reading " + what + ": unexpected end of file");
    offset += static_cast<uint64_t>(n);
    for (size_t left = static_cast<size_t>(n); left > 0;) {
      const size_t step = std::min(left, iov[at].iov_len);
      iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + step;
      iov[at].iov_len -= step;
      left -= step;
      if (iov[at].iov_len == 0) ++at;
    }
  }
  return Status::Ok();
}

// An upper bound of the encoded meta size (see AppendMessageRecord).
size_t EnvelopeBytes(const Envelope& e) {
  size_t n = 64 + e.mail_from.size() + e.client_ip.size() + e.helo.size() + e.auth_user.size() +
             e.dsn_envid.size();
  for (const Recipient& r : e.rcpts) n += 32 + r.address.size() + r.orcpt.size();
  return n;
}

}  // namespace

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}

Spool::~Spool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  TrimActiveSegment();
}

std::string Spool::SegmentPath(uint64_t seq) const {
  return options_.spoolbase + "/" + QueueId(seq).ToString() + kSegmentSuffix;
}

void Spool::Post(std::function<void()> fn) const {
  if (options_.post) {
    options_.post(std::move(fn));
  } else {
    fn();
  }
}

void Spool::Log(const std::string& line) const {
  if (options_.log) {
    options_.log("spool: " + line);
  } else {
    std::fprintf(stderr, "spool: %s\n", line.c_str());
  }
}

void Spool::Submit(Envelope envelope, std::string body, SubmitCallback done) {
  Submit(QueueId(), std::move(envelope), std::move(body), std::move(done));
}

void Spool::Submit(QueueId id, Envelope envelope, std::string body, SubmitCallback done) {
  Submit(id, std::move(envelope), std::move(body), nullptr, std::move(done));
}

void Spool::Submit(QueueId id, Envelope envelope, std::string prefix,
                   std::unique_ptr<IncomingBody> body, SubmitCallback done) {
  Status invalid;
  const uint64_t size = prefix.size() + (body ? body->size() : 0);
  if (envelope.rcpts.empty()) invalid = InvalidArgument("message has no recipients");
  if (size > kMaxBodyLen) invalid = InvalidArgument("message body too large for spool");
  if (body && invalid.ok()) invalid = body->Finish();  // disk full while receiving: 452
  if (EnvelopeBytes(envelope) > kMaxMetaLen) invalid = InvalidArgument("envelope too large");
  if (id.valid()) {
    // An id that did not come from NewId() must still never be issued again.
    ids_.RaiseFloor(id);
    std::lock_guard<std::mutex> lock(mu_);
    if (index_.contains(id)) invalid = InvalidArgument("queue id " + id.ToString() + " in use");
  }
  if (!invalid.ok()) {
    Post([done = std::move(done), invalid] { done(invalid); });
    return;
  }
  Op op;
  op.type = RecordType::kMessage;
  op.id = id;
  op.envelope = std::move(envelope);
  op.body = std::move(prefix);
  op.incoming = std::move(body);
  op.submitted = std::move(done);
  (void)Enqueue(std::move(op));
}

Status Spool::Update(QueueId id, std::vector<RecipientUpdate> updates, DoneCallback durable) {
  Op op;
  op.type = RecordType::kUpdate;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return NotFound("no message " + id.ToString() + " in spool");
    if (updates.size() > it->second.states.size()) {
      return InvalidArgument("more updates than recipients for " + id.ToString());
    }
    for (const RecipientUpdate& u : updates) {
      if (u.index >= it->second.states.size()) {
        return InvalidArgument("message " + id.ToString() + " has no recipient " +
                               std::to_string(u.index));
      }
    }
    for (const RecipientUpdate& u : updates) it->second.states.Set(u.index, u.state);
  }
  op.update = UpdateMeta{id, std::move(updates)};
  op.done = std::move(durable);
  return Enqueue(std::move(op));
}

Status Spool::Remove(QueueId id, DoneCallback durable) {
  Op op;
  op.type = RecordType::kRemove;
  op.remove_id = id;
  op.done = std::move(durable);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return NotFound("no message " + id.ToString() + " in spool");
    if (segments_.at(it->second.segment)->Drop(it->second)) gc_wanted_ = true;
    index_.erase(it);
    if (recovered_) recovered_->removed.insert(id);
  }
  return Enqueue(std::move(op));
}

Status Spool::Enqueue(Op op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    EC_CHECK(!stop_);
    pending_.push_back(std::move(op));
  }
  cv_.notify_one();
  return Status::Ok();
}

Result<std::string> Spool::ReadAt(const Segment& seg, const Entry& e, std::string* body) {
  const std::string what = seg.path + " at " + std::to_string(e.offset);
  std::string head(kRecordHeaderSize + e.meta_len, '\0');
  if (body) body->assign(e.body_len, '\0');
  EC_RETURN_IF_ERROR(PreadExact(seg.fd.get(), &head, body, e.offset, what));
  auto header = DecodeRecordHeader(head);
  if (!header.ok()) return header.status().WithContext(what);
  const std::string_view meta = std::string_view(head).substr(kRecordHeaderSize);
  if (header->meta_len != e.meta_len || header->body_len != e.body_len ||
      !MetaCrcMatches(*header, head, meta)) {
    return Internal("spool record " + what + " does not match its index entry");
  }
  if (body && Crc32c(*body) != header->body_crc) {
    return Internal("spool body " + what + " fails its checksum (disk damage?)");
  }
  return head;
}

Result<std::string> Spool::ReadAt(const Segment& seg, const Entry& e, bool body) {
  if (!body) return ReadAt(seg, e, nullptr);
  std::string bytes;
  EC_RETURN_IF_ERROR(ReadAt(seg, e, &bytes).status());
  return bytes;
}

// Looks `id` up and reads its record (see ReadAt); the index entry is copied to `entry_out`.
Result<std::string> Spool::ReadRecord(QueueId id, std::string* body, Entry* entry_out) const {
  std::shared_ptr<Segment> seg;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(id);
    if (it == index_.end()) return NotFound("no message " + id.ToString() + " in spool");
    *entry_out = it->second;
    seg = segments_.at(it->second.segment);
  }
  return ReadAt(*seg, *entry_out, body);
}

Result<std::string> Spool::ReadBody(QueueId id) const {
  Entry entry;
  std::string body;
  EC_RETURN_IF_ERROR(ReadRecord(id, &body, &entry).status());
  return body;
}

Result<SpooledMessage> Spool::ReadMessage(QueueId id, std::string* body) const {
  Entry entry;
  EC_ASSIGN_OR_RETURN(std::string head, ReadRecord(id, body, &entry));
  EC_ASSIGN_OR_RETURN(MessageMeta meta,
                      DecodeMessageMeta(std::string_view(head).substr(kRecordHeaderSize)));
  if (meta.id != id) return Internal("spool record for " + id.ToString() + " holds another id");
  return SpooledMessage{id, std::move(meta.envelope), entry.states.ToVector()};
}

Status Spool::ForEachMessage(const std::function<void(SpooledMessage&&)>& visit) const {
  for (QueueId id : ListIds()) {
    auto msg = ReadMessage(id);
    if (!msg.ok()) {
      if (msg.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      return msg.status();
    }
    visit(std::move(msg).value());
  }
  return Status::Ok();
}

Status Spool::ForEachRoute(const RouteVisitor& visit) {
  std::unique_ptr<Recovered> kept;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kept = std::move(recovered_);
  }
  std::vector<std::pair<QueueId, uint32_t>> routed;
  if (kept) {
    routed.swap(kept->messages);
    // By id; of two records with one id (a copy moved by compaction, or an id used again after
    // a removal) the later one, which the index holds, stays last.
    std::stable_sort(routed.begin(), routed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::vector<RecipientState> states;  // reused: no allocation per message
  size_t r = 0;
  for (QueueId id : ListIds()) {
    while (r < routed.size() && routed[r].first < id) ++r;
    while (r + 1 < routed.size() && routed[r + 1].first == id) ++r;
    if (r < routed.size() && routed[r].first == id && !kept->removed.contains(id)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = index_.find(id);
        if (it == index_.end()) continue;  // removed meanwhile
        const auto current = it->second.states.span();
        states.assign(current.begin(), current.end());
      }
      visit(id, kept->routes.at(routed[r].second), states);
      continue;
    }
    auto msg = ReadMessage(id);
    if (!msg.ok()) {
      if (msg.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
      return msg.status();
    }
    visit(id, RouteOf(msg->envelope), msg->states);
  }
  return Status::Ok();
}

std::vector<QueueId> Spool::ListIds() const {
  std::vector<QueueId> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ids.reserve(index_.size());
    for (const auto& [id, entry] : index_) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t Spool::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.size();
}

SpoolStats Spool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

// --- committer thread ---

void Spool::CommitterLoop() {
  for (;;) {
    std::vector<Op> ops;
    bool gc = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto ready = [&] { return stop_ || gc_wanted_ || !pending_.empty(); };
      if (!unsynced_) {
        cv_.wait(lock, ready);
      } else if (!cv_.wait_for(lock, kDeferredSyncDelay, ready)) {
        lock.unlock();
        SyncDeferred();  // nothing came to carry the deferred records' sync
        continue;
      }
      if (stop_ && pending_.empty() && !gc_wanted_) {
        lock.unlock();
        SyncDeferred();
        return;
      }
      // Everything that arrived while the last sync ran goes into this one.
      size_t bytes = 0, taken = 0;
      while (taken < pending_.size() && taken < options_.max_batch_messages &&
             (taken == 0 || bytes + pending_[taken].ApproxBytes() <= options_.max_batch_bytes)) {
        bytes += pending_[taken++].ApproxBytes();
      }
      if (taken == pending_.size()) {
        ops.swap(pending_);
      } else {
        ops.assign(std::make_move_iterator(pending_.begin()),
                   std::make_move_iterator(pending_.begin() + static_cast<ptrdiff_t>(taken)));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(taken));
      }
      gc = std::exchange(gc_wanted_, false);
    }
    const bool committed = !ops.empty();
    if (committed) CommitBatch(std::move(ops));
    if (gc) CollectGarbage();
    // One bounded step at a time, so new submissions never wait long behind compaction.
    if ((gc || committed) && MaybeCompact()) {
      std::lock_guard<std::mutex> lock(mu_);
      gc_wanted_ = true;
    }
  }
}

void Spool::CommitBatch(std::vector<Op> ops) {
  // Encode every record header and meta into one buffer; bodies are written from where they
  // are (memory, or the temporary file of a streamed body), so a body is never copied here.
  std::string headers;
  struct Piece {
    size_t head_offset, head_size;
    QueueId id;
    size_t rcpts;
  };
  std::vector<Piece> pieces(ops.size());
  uint64_t total = 0;
  size_t messages = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& op = ops[i];
    pieces[i].head_offset = headers.size();
    switch (op.type) {
      case RecordType::kMessage: {
        MessageMeta meta;
        meta.id = op.id.valid() ? op.id : ids_.Next();
        meta.envelope = std::move(op.envelope);
        meta.states.resize(meta.envelope.rcpts.size());
        uint32_t crc = Crc32c(op.body);
        if (op.incoming) crc = Crc32cCombine(crc, op.incoming->crc(), op.incoming->size());
        AppendMessageRecord(meta, op.BodySize(), crc, &headers);
        pieces[i].id = meta.id;
        pieces[i].rcpts = meta.states.size();
        ++messages;
        break;
      }
      case RecordType::kUpdate:
        AppendUpdateRecord(op.update, &headers);
        break;
      case RecordType::kRemove:
        AppendRemoveRecord(op.remove_id, &headers);
        break;
    }
    pieces[i].head_size = headers.size() - pieces[i].head_offset;
    total += pieces[i].head_size + op.BodySize();
  }

  // Delivery records nobody waits on (no `done`) are written now and synced with the next
  // batch that syncs anyway, or after kDeferredSyncDelay: a lone client's next message then
  // pays for one sync, not for the previous delivery's too.
  const bool defer = std::all_of(ops.begin(), ops.end(), [](const Op& op) {
    return op.type != RecordType::kMessage && !op.done;
  });
  // Zeros ahead pay for a lone client's syncs, not once syncs are shared (LoneWriterGauge).
  if (zero_ahead_ && messages > 0) zero_ahead_->SetPaused(!lone_writer_.Note(messages));
  Status status = EnsureActiveSegment(total);
  const uint64_t start = active_end_;
  if (status.ok()) {
    std::vector<WritePiece> writes;
    writes.reserve(ops.size() * 3);
    for (size_t i = 0; i < ops.size(); ++i) {
      writes.push_back({headers.data() + pieces[i].head_offset, pieces[i].head_size});
      writes.push_back({ops[i].body.data(), ops[i].body.size()});
      if (const IncomingBody* in = ops[i].incoming.get()) {
        if (in->spilled()) {
          writes.push_back({.len = in->size(), .fd = in->fd()});
        } else {
          writes.push_back({in->memory().data(), in->memory().size()});
        }
      }
    }
    status = AppendAndSync(writes, /*sync=*/!defer);
  }

  if (!status.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.failed_batches++;
    }
    Log("event=commit_failed records=" + std::to_string(ops.size()) +
        " messages=" + std::to_string(messages) + " error=\"" + status.ToString() + "\"");
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t offset = start;
    Segment& seg = *active_;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].type == RecordType::kMessage) {
        const uint32_t body_len = static_cast<uint32_t>(ops[i].BodySize());
        const uint32_t meta_len = static_cast<uint32_t>(pieces[i].head_size - kRecordHeaderSize);
        Entry& e = index_[pieces[i].id] =
            Entry{seg.seq, offset, meta_len, body_len, StateList(pieces[i].rcpts)};
        seg.Add(e);
      }
      offset += pieces[i].head_size + ops[i].BodySize();
    }
    active_end_ = seg.end = offset;
    stats_.batches++;
    stats_.messages_committed += messages;
    stats_.records_committed += ops.size();
    stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, messages);
    stats_.bytes_written += total;
  }

  // Temporary files are freed here, on the committer, not on the caller's loop.
  for (Op& op : ops) op.incoming.reset();
  // One hop to the caller's loop for the whole batch, if anyone there waits: a batch of
  // delivery records without callbacks (the common case after each delivery) wakes nobody.
  const bool waited = std::any_of(ops.begin(), ops.end(), [](const Op& op) {
    return op.type == RecordType::kMessage || op.done;
  });
  if (!waited) return;
  auto run = [ops = std::move(ops), pieces = std::move(pieces), status]() mutable {
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].type == RecordType::kMessage) {
        if (status.ok()) {
          ops[i].submitted(pieces[i].id);
        } else {
          ops[i].submitted(status);
        }
      } else if (ops[i].done) {
        ops[i].done(status);
      }
    }
  };
  Post(std::move(run));
}

// Writes `pieces` at the end of the active segment and syncs it (with whatever was written
// there unsynced before), or with `sync` false leaves that to a later sync (SyncDeferred). On
// failure the segment is cut back to where it ended, or abandoned if that is not possible or
// the sync failed.
Status Spool::AppendAndSync(const std::vector<WritePiece>& pieces, bool sync) {
  const uint64_t start = active_end_;
  if (zero_ahead_) {
    uint64_t bytes = 0;
    for (const WritePiece& p : pieces) bytes += p.len;
    zero_ahead_->Claim(start + bytes);
  }
  Status status = WritePiecesAt(options_.io, active_->fd.get(), pieces, static_cast<off_t>(start),
                                active_->path);
  if (status.ok() && options_.sync && !sync) {
    unsynced_ = true;
  } else if (status.ok() && options_.sync) {
    status = DataSync(options_.io, active_->fd.get(), active_->path);
    unsynced_ = false;
    // After a failed sync the page cache may claim data the disk lacks: never append to this
    // segment again.
    if (!status.ok()) {
      if (zero_ahead_) zero_ahead_->Stop();
      (void)::ftruncate(active_->fd.get(), static_cast<off_t>(start));
      RetireActiveSegment();
    }
  } else if (!status.ok()) {
    // Cut the partial batch off so the segment ends on a whole record (and ENOSPC frees the
    // space); if even that fails, leave the segment behind. From here this segment grows as it
    // is written: zeroing ahead again would only meet the same error.
    if (zero_ahead_) zero_ahead_->Stop();
    if (::ftruncate(active_->fd.get(), static_cast<off_t>(start)) != 0) RetireActiveSegment();
  }
  return status;
}

Status Spool::EnsureActiveSegment(size_t incoming_bytes) {
  if (active_ && (active_end_ == kSegmentHeaderSize ||
                  active_end_ + incoming_bytes <= options_.segment_bytes)) {
    return Status::Ok();
  }
  RetireActiveSegment();
  return CreateSegment(next_seq_);
}

void Spool::SyncDeferred() {
  if (!unsynced_ || !active_) return;
  unsynced_ = false;
  Status s = DataSync(options_.io, active_->fd.get(), active_->path);
  if (s.ok()) return;
  // Only delivery records were unsynced: a crash may repeat those deliveries, never lose mail.
  // The page cache can no longer be trusted, so nothing more goes into this segment.
  Log("event=deferred_sync_failed file=" + active_->path + " error=\"" + s.ToString() + "\"");
  RetireActiveSegment();
}

void Spool::RetireActiveSegment() {
  if (!active_) return;
  SyncDeferred();
  TrimActiveSegment();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (active_->live == 0) gc_wanted_ = true;
  }
  active_.reset();
}

void Spool::TrimActiveSegment() {
  if (!zero_ahead_) return;
  zero_ahead_->Stop();
  // Not synced: if an OS crash undoes the cut, recovery trims the zeros again.
  if (active_) (void)::ftruncate(active_->fd.get(), static_cast<off_t>(active_end_));
}

// Written under a temporary name, synced, renamed into place, then the directory synced: a
// visible segment always has a whole header, and its entry is durable before any record in it
// is reported committed.
Status Spool::CreateSegment(uint64_t seq) {
  auto seg = std::make_shared<Segment>();
  seg->seq = seq;
  seg->path = SegmentPath(seq);
  const std::string temp = seg->path + kTempSuffix;
  seg->fd.Reset(::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, options_.file_mode));
  if (!seg->fd.valid()) return ErrnoStatus("creating " + temp, errno);
  auto fail = [&](Status s) {
    ::unlink(temp.c_str());
    return s;
  };
  if (::fchmod(seg->fd.get(), options_.file_mode) != 0) {
    return fail(ErrnoStatus("chmod " + temp, errno));
  }
  std::string header = EncodeSegmentHeader(SegmentHeader{seq, ids_.last().value()});
  Status s = PwritevAll(options_.io, seg->fd.get(), {{header.data(), header.size()}}, 0, temp);
  if (s.ok() && options_.sync) s = DataSync(options_.io, seg->fd.get(), temp);
  if (!s.ok()) return fail(s);
  if (::rename(temp.c_str(), seg->path.c_str()) != 0) {
    return fail(ErrnoStatus("renaming " + temp, errno));
  }
  if (options_.sync) EC_RETURN_IF_ERROR(SyncDirectory(options_.spoolbase));
  {
    std::lock_guard<std::mutex> lock(mu_);
    segments_[seq] = seg;
    stats_.segments_created++;
  }
  seg->end = kSegmentHeaderSize;
  active_ = std::move(seg);
  active_end_ = kSegmentHeaderSize;
  next_seq_ = seq + 1;
  if (zero_ahead_) {
    zero_ahead_->Follow(active_->fd.get(), active_end_, options_.segment_bytes, active_->path);
  }
  return Status::Ok();
}

// Deletes dead segments from the oldest up to the first live (or the active) one. Only a
// prefix goes, so every update or remove record still on disk refers to a message in a segment
// that is still on disk or in none at all: replaying what is left is always consistent.
void Spool::CollectGarbage() {
  std::vector<std::shared_ptr<Segment>> dead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!segments_.empty()) {
      auto it = segments_.begin();
      if (it->second == active_ || it->second->live > 0) break;
      dead.push_back(std::move(it->second));
      segments_.erase(it);
    }
    stats_.segments_deleted += dead.size();
  }
  if (dead.empty()) return;
  for (const auto& seg : dead) {
    if (::unlink(seg->path.c_str()) != 0) {
      Log("event=unlink_failed file=" + seg->path + " errno=" + std::to_string(errno));
    }
  }
  // Not needed for safety (a segment that comes back only re-delivers), but keeps it rare.
  if (options_.sync) (void)SyncDirectory(options_.spoolbase);
}

}  // namespace ec::spool
