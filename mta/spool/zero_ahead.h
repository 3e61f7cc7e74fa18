// ZeroAhead keeps a file that is being appended to filled with synced zeros a little past its
// end, on a thread of its own, so that an append overwrites blocks the file already has instead
// of growing it. The fdatasync after the append then writes the data alone, not the inode and
// extent changes a growing file needs: a 4 KB append plus fdatasync took 0.18 ms on ext4 here,
// the same write over synced zeros 0.10 ms (bench/relay/README.md). PostgreSQL zero-fills its WAL
// segments for the same reason.
//
// The writer (the spool's committer) calls Follow when it starts a file, Claim before each write
// and Stop before it truncates or closes the file. Zeros never land where the writer has
// claimed, and Claim waits out a zero write in progress that overlaps the claim, so the writer's
// data always comes after any zeros at the same place. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace ec::spool {

class ZeroAhead {
 public:
  struct Options {
    // Keep between lead - chunk and lead zeroed past the claimed end, writing (then syncing)
    // a chunk at a time. chunk <= lead.
    uint64_t lead = 8u << 20;
    uint64_t chunk = 1u << 20;
  };
  // `log` gets one line when zeroing a file fails (it then stops for that file).
  ZeroAhead(Options options, std::function<void(std::string_view)> log);
  ~ZeroAhead();
  ZeroAhead(const ZeroAhead&) = delete;
  ZeroAhead& operator=(const ZeroAhead&) = delete;

  // Works on `fd` from now on: its data ends at `end`, and zeros go no further than `limit`.
  // `what` names the file in the log. The previous file is left as it is (see Stop).
  void Follow(int fd, uint64_t end, uint64_t limit, std::string what);
  // The writer is about to write up to `end`: waits out an overlapping zero write in progress;
  // no zeros go below `end` afterwards.
  void Claim(uint64_t end);
  // Leaves the current file alone; returns once nothing of this class uses its descriptor.
  void Stop();
  // Paused, nothing more is zeroed (a zero write in progress finishes) and appends past the
  // zeros grow the file; resumed, zeroing goes on from the claimed end. See LoneWriterGauge.
  void SetPaused(bool paused);

  // For tests: blocks until nothing more is to be zeroed for the claims so far, or zeroing
  // failed; returns where the zeros end (0 without a file).
  uint64_t WaitIdle();

 private:
  bool Wanted() const;  // with mu_ held
  void Run();

  const Options options_;
  const std::function<void(std::string_view)> log_;

  mutable std::mutex mu_;
  std::condition_variable work_;  // the thread waits for work (or quit_)
  std::condition_variable done_;  // callers wait for the thread
  int fd_ = -1;
  std::string what_;
  uint64_t claimed_ = 0;  // the writer's data ends here (at most)
  uint64_t zeroed_ = 0;   // zeros written up to here (where not claimed)
  uint64_t limit_ = 0;
  bool failed_ = false;
  bool paused_ = false;
  bool using_fd_ = false;    // the thread is writing to or syncing fd_
  bool writing_ = false;     // ... and is writing zeros from writing_from_
  uint64_t writing_from_ = 0;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace ec::spool
