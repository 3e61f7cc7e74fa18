#include "mta/journal/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/base/atomic_file.h"
#include "common/log/logger.h"
#include "mta/spool/file_io.h"

namespace ec::journal {
namespace fs = std::filesystem;
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr char kCursorSuffix[] = ".cursor";

Status WriteAllAt(int fd, std::string_view data, uint64_t offset, const std::string& what) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  return spool::PwritevAll({}, fd, {iov}, static_cast<off_t>(offset), what);
}

Result<std::string> ReadAt(int fd, uint64_t offset, size_t size, const std::string& what) {
  std::string buf(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("reading " + what, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return buf;
}


}  // namespace

Result<std::unique_ptr<Journal>> Journal::Open(JournalOptions options) {
  if (options.dir.empty()) return InvalidArgument("journal: no directory");
  if (options.segment_bytes < kSegmentHeaderSize + kRecordHeaderSize) {
    return InvalidArgument("journal: segment_bytes too small");
  }
  for (const std::string& name : options.subscribers) {
    EC_RETURN_IF_ERROR(ValidateSubscriberName(name));
  }
  std::unique_ptr<Journal> j(new Journal(std::move(options)));
  EC_RETURN_IF_ERROR(j->Load());
  return j;
}

Journal::~Journal() = default;

Status Journal::Load() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) return Status(StatusCode::kIoError, "creating " + options_.dir + ": " + ec.message());
  std::string lock_path = PathOf("journal.lock");
  lock_fd_.Reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
  if (!lock_fd_.valid()) return ErrnoStatus("opening " + lock_path, errno);
  if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return FailedPrecondition("journal " + options_.dir + " is open in another process");
  }

  std::map<std::string, Position> cursors;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    std::string name = entry.path().filename().string();
    if (auto segment = ParseSegmentFileName(name)) {
      segments_[*segment] = 0;
    } else if (name.size() > 4 && name.ends_with(".tmp")) {
      fs::remove(entry.path(), ec);  // a half-made segment or cursor of a killed writer
    } else if (name.ends_with(kCursorSuffix)) {
      std::string sub = name.substr(0, name.size() - (sizeof kCursorSuffix - 1));
      int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
      daemon::UniqueFd owned(fd);
      auto bytes = fd >= 0 ? ReadAt(fd, 0, kCursorSize + 1, name) : Result<std::string>("");
      auto pos = bytes.ok() ? DecodeCursor(*bytes) : Result<Position>(bytes.status());
      // Unreadable: start over at the oldest record (lines read twice, never lost).
      cursors[sub] = pos.ok() ? *pos : Position{};
      if (!pos.ok())
        EC_LOG(kWarn, "journal cursor unreadable").Field("file", entry.path().string());
    }
  }
  if (ec) return Status(StatusCode::kIoError, "listing " + options_.dir + ": " + ec.message());

  for (auto& [segment, size] : segments_) {
    auto st = fs::file_size(PathOf(SegmentFileName(segment)), ec);
    size = ec ? 0 : st;
  }
  if (segments_.empty()) {
    EC_RETURN_IF_ERROR(CreateSegment(1));
  } else {
    EC_RETURN_IF_ERROR(RecoverTail(segments_.rbegin()->first));
  }
  write_segment_ = segments_.rbegin()->first;
  write_offset_ = segments_.rbegin()->second;
  std::string path = PathOf(SegmentFileName(write_segment_));
  write_fd_.Reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!write_fd_.valid()) return ErrnoStatus("opening " + path, errno);
  total_bytes_ = 0;
  for (const auto& [segment, size] : segments_) total_bytes_ += size;

  Position oldest = Oldest();
  for (auto& [name, pos] : cursors) {
    // A cursor older than what is kept (the bound dropped it) or past the end (a torn tail was
    // cut off) is clamped.
    Position p = std::clamp(pos, oldest, End());
    subscribers_[name] = Subscriber{Normalize(p), 0};
  }
  for (const std::string& name : options_.subscribers) {
    if (subscribers_.count(name) == 0) EC_RETURN_IF_ERROR(AddSubscriber(name));
  }
  Prune();
  return Status::Ok();
}

Status Journal::RecoverTail(uint64_t segment) {
  std::string path = PathOf(SegmentFileName(segment));
  daemon::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
  uint64_t size = segments_[segment];
  EC_ASSIGN_OR_RETURN(std::string header, ReadAt(fd.get(), 0, kSegmentHeaderSize, path));
  auto number = DecodeSegmentHeader(header);
  if (!number.ok() || *number != segment) {
    return InvalidArgument(path + ": not a journal segment (or not number " +
                           std::to_string(segment) + ")");
  }
  uint64_t valid = kSegmentHeaderSize;
  while (valid < size) {
    EC_ASSIGN_OR_RETURN(
        std::string chunk,
        ReadAt(fd.get(), valid, std::min<uint64_t>(kReadChunk, size - valid), path));
    size_t used = 0;
    while (auto record = DecodeRecord(std::string_view(chunk).substr(used))) used += record->size;
    if (used == 0) {
      size_t claimed = ClaimedRecordSize(chunk);
      if (claimed == 0 || claimed <= chunk.size() || valid + claimed > size) break;
      EC_ASSIGN_OR_RETURN(chunk, ReadAt(fd.get(), valid, claimed, path));
      if (!DecodeRecord(chunk)) break;
      used = claimed;
    }
    valid += used;
  }
  if (valid < size) {
    EC_LOG(kWarn, "journal: cutting off a torn tail")
        .Field("segment", path)
        .Field("bytes", static_cast<int64_t>(size - valid));
    if (::ftruncate(fd.get(), static_cast<off_t>(valid)) != 0) {
      return ErrnoStatus("truncating " + path, errno);
    }
    EC_RETURN_IF_ERROR(spool::DataSync({}, fd.get(), path));
  }
  segments_[segment] = valid;
  return Status::Ok();
}

Status Journal::CreateSegment(uint64_t segment) {
  std::string path = PathOf(SegmentFileName(segment));
  EC_RETURN_IF_ERROR(WriteFileAtomically(path, EncodeSegmentHeader(segment)));
  segments_[segment] = kSegmentHeaderSize;
  return Status::Ok();
}

Status Journal::Roll() {
  // The full segment is made durable before anything after it can be.
  EC_RETURN_IF_ERROR(spool::DataSync({}, write_fd_.get(), SegmentFileName(write_segment_)));
  uint64_t next = write_segment_ + 1;
  EC_RETURN_IF_ERROR(CreateSegment(next));
  std::string path = PathOf(SegmentFileName(next));
  daemon::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
  write_fd_ = std::move(fd);
  write_segment_ = next;
  write_offset_ = kSegmentHeaderSize;
  total_bytes_ += kSegmentHeaderSize;
  return Status::Ok();
}

Status Journal::Append(std::string_view payload) {
  if (payload.size() > kMaxPayload) {
    return InvalidArgument("journal record of " + std::to_string(payload.size()) +
                           " bytes (at most " + std::to_string(kMaxPayload) + ")");
  }
  std::string record = EncodeRecord(payload);
  if (write_offset_ > kSegmentHeaderSize &&
      write_offset_ + record.size() > options_.segment_bytes) {
    EC_RETURN_IF_ERROR(Roll());
  }
  // Written past the valid end: a failed or torn write is overwritten by the next one.
  EC_RETURN_IF_ERROR(WriteAllAt(write_fd_.get(), record, write_offset_, dir()));
  if (options_.sync_each_append) {
    EC_RETURN_IF_ERROR(spool::DataSync({}, write_fd_.get(), dir()));
  }
  write_offset_ += record.size();
  segments_[write_segment_] = write_offset_;
  total_bytes_ += record.size();
  ++records_appended_;
  EnforceBound();
  return Status::Ok();
}

Status Journal::Sync() { return spool::DataSync({}, write_fd_.get(), dir()); }

Status Journal::AddSubscriber(const std::string& name, bool at_end) {
  EC_RETURN_IF_ERROR(ValidateSubscriberName(name));
  if (subscribers_.count(name) != 0) return Status::Ok();
  Position start = at_end ? End() : Oldest();
  EC_RETURN_IF_ERROR(WriteCursor(name, start));
  subscribers_[name] = Subscriber{start, 0};
  return Status::Ok();
}

Status Journal::RemoveSubscriber(const std::string& name) {
  if (subscribers_.erase(name) == 0) return NotFound("no journal subscriber " + name);
  std::error_code ec;
  fs::remove(PathOf(name + kCursorSuffix), ec);
  if (ec) return Status(StatusCode::kIoError, "removing cursor " + name + ": " + ec.message());
  Prune();
  return Status::Ok();
}

Status Journal::WriteCursor(const std::string& name, const Position& position) {
  return WriteFileAtomically(PathOf(name + kCursorSuffix), EncodeCursor(position));
}

Position Journal::Oldest() const { return {segments_.begin()->first, kSegmentHeaderSize}; }

Position Journal::Normalize(Position p) const {
  // Before the oldest segment kept: everything there was read (or dropped) already.
  if (p < Oldest()) return Oldest();
  for (auto it = segments_.find(p.segment); it != segments_.end(); ++it) {
    if (it->first != p.segment) p = {it->first, kSegmentHeaderSize};
    if (p.offset < it->second || it->first == write_segment_) return p;
  }
  return p;
}

Result<int> Journal::ReadFd(uint64_t segment) {
  if (segment == write_segment_) return write_fd_.get();
  auto it = read_fds_.find(segment);
  if (it != read_fds_.end()) return it->second.get();
  std::string path = PathOf(SegmentFileName(segment));
  daemon::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("opening " + path, errno);
  int raw = fd.get();
  read_fds_.emplace(segment, std::move(fd));
  return raw;
}

Result<std::vector<Entry>> Journal::Read(const std::string& name, size_t max_records,
                                         size_t max_bytes) {
  auto sub = subscribers_.find(name);
  if (sub == subscribers_.end()) return NotFound("no journal subscriber " + name);
  std::vector<Entry> out;
  size_t bytes = 0;
  Position pos = Normalize(sub->second.position);
  while (out.size() < max_records && (out.empty() || bytes < max_bytes)) {
    pos = Normalize(pos);
    auto seg = segments_.find(pos.segment);
    if (seg == segments_.end() || pos.offset >= seg->second) break;
    EC_ASSIGN_OR_RETURN(int fd, ReadFd(pos.segment));
    std::string what = SegmentFileName(pos.segment);
    uint64_t want = std::min<uint64_t>(seg->second - pos.offset,
                                       std::max<uint64_t>(kReadChunk, max_bytes - bytes));
    EC_ASSIGN_OR_RETURN(std::string chunk, ReadAt(fd, pos.offset, want, what));
    size_t used = 0;
    while (out.size() < max_records && (out.empty() || bytes < max_bytes)) {
      auto record = DecodeRecord(std::string_view(chunk).substr(used));
      if (!record) break;
      Position at{pos.segment, pos.offset + used};
      used += record->size;
      bytes += record->size;
      out.push_back(Entry{at, {pos.segment, pos.offset + used}, std::string(record->payload)});
    }
    if (used == 0) {
      size_t claimed = ClaimedRecordSize(chunk);
      if (claimed > chunk.size() && pos.offset + claimed <= seg->second) {
        EC_ASSIGN_OR_RETURN(chunk, ReadAt(fd, pos.offset, claimed, what));
        if (auto record = DecodeRecord(chunk)) {
          out.push_back(
              Entry{pos, {pos.segment, pos.offset + claimed}, std::string(record->payload)});
          bytes += claimed;
          pos.offset += claimed;
          continue;
        }
      }
      // Damage inside a segment (not a torn tail: Open cut those off). Skip to the next segment;
      // in the segment being written there is nothing to skip to, so stop here.
      EC_LOG(kError, "journal: unreadable record")
          .Field("segment", PathOf(what))
          .Field("offset", static_cast<int64_t>(pos.offset));
      if (pos.segment == write_segment_) break;
      pos = {std::next(seg)->first, kSegmentHeaderSize};
      continue;
    }
    pos.offset += used;
  }
  return out;
}

Status Journal::Advance(const std::string& name, const Position& to) {
  auto sub = subscribers_.find(name);
  if (sub == subscribers_.end()) return NotFound("no journal subscriber " + name);
  // Records the disk bound dropped while the reader held them: its cursor already moved past.
  if (to < Oldest() && sub->second.position <= Oldest()) return Status::Ok();
  if (to < sub->second.position || End() < to || segments_.count(to.segment) == 0) {
    return InvalidArgument("journal cursor " + name + " cannot move to " +
                           std::to_string(to.segment) + ":" + std::to_string(to.offset));
  }
  // A cursor inside a record would make the next Read skip to the next segment, silently
  // losing the lines in between: only record boundaries are accepted.
  EC_RETURN_IF_ERROR(CheckRecordStart(sub->second.position, to)
                         .WithContext("journal cursor " + name + " cannot move to " +
                                      std::to_string(to.segment) + ":" +
                                      std::to_string(to.offset)));
  EC_RETURN_IF_ERROR(WriteCursor(name, to));
  sub->second.position = Normalize(to);
  Prune();
  return Status::Ok();
}

Status Journal::CheckRecordStart(const Position& from, const Position& to) {
  const uint64_t end = segments_.at(to.segment);
  if (to.offset == kSegmentHeaderSize || to.offset == end) return Status::Ok();
  if (to.offset < kSegmentHeaderSize || to.offset > end) {
    return InvalidArgument("not a record boundary");
  }
  // Walk the record headers from a known boundary: the cursor if it is in the same segment
  // and before `to` (the usual ack, just after a read), else the segment's first record.
  uint64_t at =
      from.segment == to.segment && from.offset <= to.offset && from.offset >= kSegmentHeaderSize
          ? from.offset
          : kSegmentHeaderSize;
  EC_ASSIGN_OR_RETURN(int fd, ReadFd(to.segment));
  const std::string what = SegmentFileName(to.segment);
  std::string chunk;
  uint64_t chunk_at = at;
  while (at < to.offset) {
    if (at + kRecordHeaderSize > chunk_at + chunk.size()) {
      chunk_at = at;
      EC_ASSIGN_OR_RETURN(chunk, ReadAt(fd, at, std::min<uint64_t>(kReadChunk, end - at), what));
    }
    size_t claimed = ClaimedRecordSize(std::string_view(chunk).substr(at - chunk_at));
    if (claimed == 0 || at + claimed > end) return InvalidArgument("no readable record before it");
    at += claimed;
  }
  if (at != to.offset) return InvalidArgument("not the start of a record");
  return Status::Ok();
}

void Journal::Prune() {
  uint64_t keep_from = write_segment_;
  for (auto& [name, sub] : subscribers_) {
    sub.position = Normalize(sub.position);
    keep_from = std::min(keep_from, sub.position.segment);
  }
  while (segments_.begin()->first < keep_from) RemoveSegment(segments_.begin()->first);
}

void Journal::EnforceBound() {
  while (total_bytes_ > options_.max_bytes && segments_.size() > 1) {
    auto [oldest, size] = *segments_.begin();
    auto next = std::next(segments_.begin())->first;
    for (auto& [name, sub] : subscribers_) {
      if (sub.position.segment != oldest) continue;
      uint64_t lost = size > sub.position.offset ? size - sub.position.offset : 0;
      sub.dropped_bytes += lost;
      sub.position = {next, kSegmentHeaderSize};
      Status s = WriteCursor(name, sub.position);
      EC_LOG(kWarn, "journal full: dropping unread lines")
          .Field("journal", dir())
          .Field("subscriber", name)
          .Field("bytes", static_cast<int64_t>(lost))
          .Field("cursor", s);
    }
    dropped_bytes_ += size;
    RemoveSegment(oldest);
  }
}

void Journal::RemoveSegment(uint64_t segment) {
  read_fds_.erase(segment);
  total_bytes_ -= segments_[segment];
  segments_.erase(segment);
  std::error_code ec;
  fs::remove(PathOf(SegmentFileName(segment)), ec);
  if (ec) EC_LOG(kWarn, "journal: cannot remove a segment").Field("error", ec.message());
}

JournalStats Journal::Stats() const {
  JournalStats s;
  s.bytes = total_bytes_;
  s.segments = segments_.size();
  s.end = End();
  s.records_appended = records_appended_;
  s.dropped_bytes = dropped_bytes_;
  for (const auto& [name, sub] : subscribers_) {
    SubscriberStats st{name, sub.position, 0, sub.dropped_bytes};
    Position p = Normalize(sub.position);
    for (auto it = segments_.find(p.segment); it != segments_.end(); ++it) {
      uint64_t from = it->first == p.segment ? p.offset : kSegmentHeaderSize;
      if (it->second > from) st.pending_bytes += it->second - from;
    }
    s.subscribers.push_back(std::move(st));
  }
  return s;
}

}  // namespace ec::journal
