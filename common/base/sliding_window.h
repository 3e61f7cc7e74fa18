// SlidingWindow: counts events over the trailing window (a sliding log of their times), so a
// limit of N per window holds over *any* window of that length, not only over fixed ones (with
// fixed windows N can pass at the end of one and N more at the start of the next). Serves the
// node-local outbound_throttle_* and the cluster throttles' usage alike.
// Memory is bounded: past kMaxEntries the two oldest entries merge into one that carries both
// counts and the later time, which can only make the window stricter (it expires later), never
// looser. Not thread-safe; times are caller-supplied microseconds of a monotonic clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace ec {

class SlidingWindow {
 public:
  static constexpr size_t kMaxEntries = 1024;

  explicit SlidingWindow(int64_t window_us) : window_us_(window_us) {}

  // Events within (now_us - window, now_us]; older ones are dropped first.
  uint64_t Count(int64_t now_us);
  // Records `n` events at now_us.
  void Add(int64_t now_us, uint64_t n = 1);
  // When the count next drops (the oldest entry leaves the window); 0 when empty.
  int64_t NextExpiryUs() const;
  int64_t window_us() const { return window_us_; }
  // A new window length (config reload); events already recorded keep their times.
  void SetWindow(int64_t window_us) { window_us_ = window_us; }

 private:
  struct Entry {
    int64_t at_us;
    uint64_t count;
  };
  void Expire(int64_t now_us);

  int64_t window_us_;
  std::deque<Entry> entries_;
  uint64_t total_ = 0;
};

}  // namespace ec
