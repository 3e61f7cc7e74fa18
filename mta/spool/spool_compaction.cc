// Spool compaction: copies the live messages of the oldest segment forward so that it, and the
// dead segments behind it, can be deleted. Runs on the committer thread only.
#include <algorithm>

#include "mta/spool/spool_internal.h"

namespace ec::spool {

// Moves one bounded chunk of the oldest segment's live messages to the active segment, when the
// space that would free (every dead byte of the inactive segments, pinned by the prefix rule)
// is at least twice what must be copied: copying then costs at most half of what it reclaims.
// Returns true if it moved something (the caller runs it again after reclaiming).
//
// Safe against concurrent Update and Remove: the set of messages is read here on the committer,
// so any update or remove record for them is written by a later batch, after the copies; replay
// therefore applies it on top of the copy. A copy carries the recipient states current when it
// was made.
bool Spool::MaybeCompact() {
  std::shared_ptr<Segment> head;
  std::vector<std::pair<QueueId, Entry>> moving;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (segments_.size() < 2) return false;
    head = segments_.begin()->second;
    if (head == active_ || head->live == 0 || head->compaction_failed) return false;
    uint64_t dead = 0;
    for (const auto& [seq, seg] : segments_) {
      if (seg != active_) dead += seg->end - kSegmentHeaderSize - seg->live_bytes;
    }
    if (head->live_bytes * 2 > dead) return false;
    uint64_t bytes = 0;
    for (const auto& [id, entry] : index_) {
      if (entry.segment != head->seq) continue;
      moving.emplace_back(id, entry);
      bytes += Segment::RecordSize(entry);
      if (bytes >= options_.max_batch_bytes || moving.size() >= options_.max_batch_messages) {
        break;
      }
    }
  }

  // Re-encode each message with its current states; bodies are read back and checksummed.
  std::string headers;
  std::vector<std::string> bodies(moving.size());
  std::vector<std::pair<size_t, size_t>> heads(moving.size());
  size_t total = 0;
  for (size_t i = 0; i < moving.size(); ++i) {
    const auto& [id, entry] = moving[i];
    auto head_bytes = ReadAt(*head, entry, /*body=*/false);
    auto body = head_bytes.ok() ? ReadAt(*head, entry, /*body=*/true) : head_bytes.status();
    Result<MessageMeta> meta =
        body.ok() ? DecodeMessageMeta(std::string_view(*head_bytes).substr(kRecordHeaderSize))
                  : Result<MessageMeta>(body.status());
    if (!meta.ok()) {
      // Cannot be moved, so this segment can never go; keep it, and say so once.
      Log("event=compaction_blocked file=" + head->path + " id=" + id.ToString() + " error=\"" +
          meta.status().ToString() + "\"");
      std::lock_guard<std::mutex> lock(mu_);
      head->compaction_failed = true;
      return false;
    }
    meta->states = entry.states.ToVector();
    heads[i].first = headers.size();
    AppendMessageRecord(*meta, *body, &headers);
    heads[i].second = headers.size() - heads[i].first;
    bodies[i] = std::move(body).value();
    total += heads[i].second + bodies[i].size();
  }

  Status status = EnsureActiveSegment(total);
  const uint64_t start = active_end_;
  if (status.ok()) {
    std::vector<WritePiece> writes;
    for (size_t i = 0; i < moving.size(); ++i) {
      writes.push_back({headers.data() + heads[i].first, heads[i].second});
      writes.push_back({bodies[i].data(), bodies[i].size()});
    }
    status = AppendAndSync(writes);
  }
  if (!status.ok()) {
    // Retried after the next successful batch or removal; nothing was lost.
    Log("event=compaction_failed file=" + head->path + " error=\"" + status.ToString() + "\"");
    return false;
  }

  std::lock_guard<std::mutex> lock(mu_);
  Segment& to = *active_;
  uint64_t offset = start;
  for (size_t i = 0; i < moving.size(); ++i) {
    const auto& [id, old] = moving[i];
    const uint64_t size = heads[i].second + bodies[i].size();
    auto it = index_.find(id);
    // Removed meanwhile: the copy is dead weight, and the remove record follows it on disk.
    if (it != index_.end() && it->second.segment == head->seq && it->second.offset == old.offset) {
      head->Drop(it->second);
      it->second.segment = to.seq;
      it->second.offset = offset;
      it->second.meta_len = static_cast<uint32_t>(heads[i].second - kRecordHeaderSize);
      to.Add(it->second);
      stats_.messages_moved++;
    }
    offset += size;
  }
  active_end_ = to.end = offset;
  stats_.bytes_written += total;
  return true;
}

}  // namespace ec::spool
