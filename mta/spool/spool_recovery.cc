// Spool::Open: locking the spool, scanning segments, rebuilding the index, and setting damaged
// segments aside for the operator (docs/spool.md, "Recovery").
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>

#include "mta/spool/spool_internal.h"

namespace ec::spool {
namespace {

// Read-only mapping of a whole file, unmapped on destruction.
class Mapping {
 public:
  Mapping(int fd, size_t size) : size_(size) {
    if (size_ > 0) {
      // Every page is read: mapping them all at once costs less than a fault every few pages.
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) data_ = p;
    }
  }
  ~Mapping() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  bool ok() const { return size_ == 0 || data_ != nullptr; }
  // The whole mapping is about to be read in order: start fetching it (advice only).
  void WillReadAll() const {
    if (data_ == nullptr) return;
    (void)::madvise(data_, size_, MADV_SEQUENTIAL);
    (void)::madvise(data_, size_, MADV_WILLNEED);
  }
  std::string_view bytes() const {
    return data_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view();
  }

 private:
  void* data_ = nullptr;
  size_t size_;
};

// "000000000000002A.seg" -> 42; anything else -> 0 (seq 0 is never used).
uint64_t ParseSegmentName(std::string_view name) {
  const std::string_view suffix = kSegmentSuffix;
  if (name.size() != 16 + suffix.size() || !name.ends_with(suffix)) return 0;
  auto id = QueueId::Parse(name.substr(0, 16));
  return id ? id->value() : 0;
}

// Asks the kernel to read the file at `path` into the page cache in the background, so the disk
// fetches the next segment while the current one is scanned (advice only; errors ignored).
void PrefetchSegment(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_WILLNEED);
}

// True if the file at `path` holds exactly `bytes`.
bool HoldsExactly(const std::string& path, std::string_view bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 ||
      static_cast<uint64_t>(st.st_size) != bytes.size()) {
    return false;
  }
  Mapping map(fd.get(), bytes.size());
  return map.ok() && map.bytes() == bytes;
}

// "<path>.corrupt", or "<path>.corrupt.N" when that is taken: a copy set aside earlier is never
// overwritten. Sets `*done` if one of them already holds `bytes` (a restart met the same damage).
std::string CorruptName(const std::string& path, std::string_view bytes, bool* done) {
  std::string name = path + kCorruptSuffix;
  for (int n = 1; n <= 100; ++n) {
    if (::access(name.c_str(), F_OK) != 0) break;
    if (!bytes.empty() && HoldsExactly(name, bytes)) {
      *done = true;
      break;
    }
    name = path + kCorruptSuffix + "." + std::to_string(n);
  }
  return name;
}

// Copies a damaged segment (`bytes`, as read) beside it for the operator: the segment itself
// stays in use for its whole records. Returns the copy's name.
Result<std::string> CopyAside(const SpoolOptions& options, const std::string& path,
                              std::string_view bytes) {
  bool done = false;
  const std::string name = CorruptName(path, bytes, &done);
  if (done) return name;
  const std::string temp = name + kTempSuffix;
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.file_mode));
  if (!fd.valid()) return ErrnoStatus("creating " + temp, errno);
  Status s =
      PwritevAll(options.io, fd.get(), {{const_cast<char*>(bytes.data()), bytes.size()}}, 0, temp);
  if (s.ok() && options.sync) s = DataSync(options.io, fd.get(), temp);
  if (s.ok() && ::rename(temp.c_str(), name.c_str()) != 0) {
    s = ErrnoStatus("renaming " + temp, errno);
  }
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  if (options.sync) EC_RETURN_IF_ERROR(SyncDirectory(options.spoolbase));
  return name;
}

// tmpfs and ramfs: a sync costs nothing there, so zeroing ahead would only take memory.
bool OnMemoryFileSystem(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return false;
  return fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC;
}

}  // namespace

Result<std::unique_ptr<Spool>> Spool::Open(SpoolOptions options) {
  if (options.spoolbase.empty()) return InvalidArgument("spoolbase is empty");
  if (options.max_batch_messages == 0) options.max_batch_messages = 1;
  std::error_code ec;
  std::filesystem::create_directories(options.spoolbase, ec);
  if (ec) return ErrnoStatus("creating spool " + options.spoolbase, ec.value());

  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  const std::string lock_path = spool->options_.spoolbase + "/" + kLockName;
  spool->lock_fd_.Reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!spool->lock_fd_.valid()) return ErrnoStatus("opening " + lock_path, errno);
  if (::flock(spool->lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return FailedPrecondition("spool " + spool->options_.spoolbase +
                                " is in use by another process");
    }
    return ErrnoStatus("locking " + lock_path, errno);
  }
  EC_RETURN_IF_ERROR(spool->Recover());
  const SpoolOptions& o = spool->options_;
  if (o.sync && o.zero_ahead_bytes > 0 && !OnMemoryFileSystem(o.spoolbase)) {
    Spool* raw = spool.get();
    spool->zero_ahead_ = std::make_unique<ZeroAhead>(
        ZeroAhead::Options{.lead = o.zero_ahead_bytes,
                           .chunk = std::min<uint64_t>(o.zero_ahead_bytes / 2 + 1, 1u << 20)},
        [raw](std::string_view line) { raw->Log(std::string(line)); });
  }
  // A fresh segment at once: its header keeps the id floor even if every older segment goes.
  EC_RETURN_IF_ERROR(spool->CreateSegment(spool->next_seq_));
  spool->CollectGarbage();
  spool->gc_wanted_ = true;  // lets the committer compact what recovery found
  Spool* raw = spool.get();
  spool->committer_ = std::thread([raw] { raw->CommitterLoop(); });
  return spool;
}

Status Spool::Recover() {
  if (options_.keep_routes) recovered_ = std::make_unique<Recovered>();
  std::vector<uint64_t> seqs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.spoolbase, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(std::string(kSegmentSuffix) + kTempSuffix)) {
      // A segment that crashed before its rename: never held a committed record.
      ::unlink(entry.path().c_str());
      Log("event=discard_temp_segment file=" + name);
      continue;
    }
    if (name.starts_with(kIncomingPrefix) && name.ends_with(kTempSuffix)) {
      // A received body's temporary file, left by a crash before it was unlinked (IncomingBody).
      ::unlink(entry.path().c_str());
      Log("event=discard_incoming_body file=" + name);
      continue;
    }
    if (uint64_t seq = ParseSegmentName(name)) seqs.push_back(seq);
  }
  if (ec) return ErrnoStatus("listing spool " + options_.spoolbase, ec.value());
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (i + 1 < seqs.size()) PrefetchSegment(SegmentPath(seqs[i + 1]));
    EC_RETURN_IF_ERROR(RecoverSegment(seqs[i], SegmentPath(seqs[i])));
    next_seq_ = seqs[i] + 1;
  }
  size_t live_segments = 0;
  for (const auto& [seq, seg] : segments_) live_segments += seg->live > 0;
  Log("event=recovered messages=" + std::to_string(index_.size()) +
      " segments=" + std::to_string(segments_.size()) +
      " live_segments=" + std::to_string(live_segments) + " last_id=" + ids_.last().ToString());
  return Status::Ok();
}

Status Spool::RecoverSegment(uint64_t seq, const std::string& path) {
  auto seg = std::make_shared<Segment>();
  seg->seq = seq;
  seg->path = path;
  seg->fd.Reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!seg->fd.valid()) return ErrnoStatus("opening " + path, errno);
  struct stat st;
  if (::fstat(seg->fd.get(), &st) != 0) return ErrnoStatus("stat " + path, errno);
  Mapping map(seg->fd.get(), static_cast<size_t>(st.st_size));
  if (!map.ok()) return ErrnoStatus("mapping " + path, errno);
  map.WillReadAll();

  auto header = DecodeSegmentHeader(map.bytes());
  if (!header.ok() || header->seq != seq) {
    // Segments are renamed into place only after their header is synced, so this is damage,
    // not a crash. Keep the file for the operator, out of the way of the next scan.
    Log("event=corrupt_segment file=" + path + " reason=\"" +
        (header.ok() ? std::string("sequence mismatch") : header.status().message()) + "\"");
    bool done = false;
    if (::rename(path.c_str(), CorruptName(path, {}, &done).c_str()) != 0) {
      return ErrnoStatus("renaming corrupt segment " + path, errno);
    }
    return Status::Ok();
  }
  ids_.RaiseFloor(QueueId(header->id_floor));

  std::lock_guard<std::mutex> lock(mu_);
  segments_[seq] = seg;
  auto drop = [&](QueueId id) {
    auto it = index_.find(id);
    if (it == index_.end()) return;
    segments_.at(it->second.segment)->Drop(it->second);
    index_.erase(it);
  };
  ScanResult scan = ScanRecords(
      map.bytes().substr(kSegmentHeaderSize), /*verify_bodies=*/true, [&](ScannedRecord&& rec) {
        if (auto* m = std::get_if<MessageMeta>(&rec.meta)) {
          ids_.RaiseFloor(m->id);
          auto [it, inserted] = index_.try_emplace(m->id);
          // A later copy of the same message wins.
          if (!inserted) segments_.at(it->second.segment)->Drop(it->second);
          Entry& e = it->second = Entry{seq, kSegmentHeaderSize + rec.offset,
                                        rec.header.meta_len, rec.header.body_len,
                                        StateList(m->states)};
          seg->Add(e);
          // Kept for ForEachRoute, so the scheduler need not read this envelope again.
          if (recovered_) {
            const uint32_t route = recovered_->routes.Intern(m->envelope);
            if (route != RouteTable::kNone) recovered_->messages.emplace_back(m->id, route);
          }
        } else if (auto* u = std::get_if<UpdateMeta>(&rec.meta)) {
          ids_.RaiseFloor(u->id);
          auto it = index_.find(u->id);
          if (it == index_.end()) return;
          for (const RecipientUpdate& up : u->updates) {
            if (up.index < it->second.states.size()) it->second.states.Set(up.index, up.state);
          }
        } else {
          const QueueId id = std::get<RemoveMeta>(rec.meta).id;
          ids_.RaiseFloor(id);
          drop(id);
        }
      });
  seg->end = kSegmentHeaderSize + scan.valid_end;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const bool damaged_tail = !scan.error.empty() && !scan.torn_tail;
  // Damage (not a crash) lost the records skipped here: log each stretch and keep a copy of the
  // segment as it was. The segment is not changed, and its whole records are indexed above.
  for (const DamagedRange& r : scan.damaged) {
    Log("event=skip_damaged_records file=" + path +
        " offset=" + std::to_string(kSegmentHeaderSize + r.offset) +
        " length=" + std::to_string(r.length) + " reason=\"" + r.reason + "\"");
  }
  if (damaged_tail) {
    Log("event=skip_damaged_records file=" + path + " offset=" + std::to_string(seg->end) +
        " length=" + std::to_string(size - seg->end) + " reason=\"" + scan.error + "\"");
  }
  if (!scan.damaged.empty() || damaged_tail) {
    // A torn tail after the damage is not worth keeping: the copy ends where it is cut below.
    auto copy = CopyAside(options_, path, map.bytes().substr(0, damaged_tail ? size : seg->end));
    if (copy.ok()) {
      Log("event=corrupt_segment_copied file=" + path + " copy=" + *copy +
          " damaged_ranges=" + std::to_string(scan.damaged.size() + damaged_tail));
    } else {
      Log("event=corrupt_copy_failed file=" + path + " error=\"" + copy.status().ToString() +
          "\" note=\"the damaged bytes stay in the segment until it is reclaimed\"");
    }
  }
  if (scan.torn_tail) {
    const std::string_view tail = map.bytes().substr(seg->end);
    if (std::all_of(tail.begin(), tail.end(), [](char c) { return c == 0; })) {
      // Zeros written ahead of the records (ZeroAhead), or room the file grew by whose data
      // never reached the disk: nothing was cut.
      Log("event=trim_zero_tail file=" + path + " kept_bytes=" + std::to_string(seg->end) +
          " zero_bytes=" + std::to_string(size - seg->end));
    } else {
      Log("event=discard_torn_tail file=" + path + " kept_bytes=" + std::to_string(seg->end) +
          " discarded_bytes=" + std::to_string(size - seg->end) + " reason=\"" + scan.error +
          "\"");
    }
    // Nothing is ever appended to a recovered segment; cutting the tail only keeps the next
    // recovery quiet. Failing to cut it is harmless.
    if (::ftruncate(seg->fd.get(), static_cast<off_t>(seg->end)) == 0 && options_.sync) {
      (void)DataSync(options_.io, seg->fd.get(), path);
    }
  }
  return Status::Ok();
}

}  // namespace ec::spool
