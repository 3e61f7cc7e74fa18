// SlidingWindow against a true sliding log: the window's bounds, merging past kMaxEntries
// (stricter, never looser), NextExpiryUs and SetWindow.
#include "common/base/sliding_window.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ec {
namespace {

constexpr int64_t kSec = 1000000;

// Every event's time, unbounded: what the window approximates.
struct TrueLog {
  std::vector<int64_t> at;
  uint64_t Count(int64_t now, int64_t window) const {
    uint64_t n = 0;
    for (int64_t t : at) n += (t > now - window && t <= now) ? 1 : 0;
    return n;
  }
};

TEST(SlidingWindow, EmptyCountsZeroAndHasNoExpiry) {
  SlidingWindow w(10 * kSec);
  EXPECT_EQ(w.Count(0), 0u);
  EXPECT_EQ(w.NextExpiryUs(), 0);
  EXPECT_EQ(w.window_us(), 10 * kSec);
}

TEST(SlidingWindow, AnEventExactlyOneWindowOldHasLeft) {
  SlidingWindow w(10 * kSec);
  w.Add(100 * kSec);
  EXPECT_EQ(w.Count(100 * kSec), 1u);
  EXPECT_EQ(w.Count(110 * kSec - 1), 1u);
  EXPECT_EQ(w.Count(110 * kSec), 0u);
  EXPECT_EQ(w.NextExpiryUs(), 0);
}

TEST(SlidingWindow, AddCountsSeveralAndMergesEqualTimes) {
  SlidingWindow w(kSec);
  w.Add(5, 3);
  w.Add(5);
  w.Add(6, 0);  // nothing
  EXPECT_EQ(w.Count(5), 4u);
  EXPECT_EQ(w.NextExpiryUs(), 5 + kSec);
  w.Add(7, 2);
  EXPECT_EQ(w.Count(kSec + 5), 2u);  // the four at 5 left
  EXPECT_EQ(w.Count(kSec + 7), 0u);
}

TEST(SlidingWindow, HoldsOverAnyWindowNotFixedOnes) {
  // The fixed-window flaw: 20 at the end of one window and 20 at the start of the next.
  SlidingWindow w(10 * kSec);
  for (int i = 0; i < 20; ++i) w.Add(9 * kSec);
  EXPECT_EQ(w.Count(10 * kSec + 1), 20u);  // still full after the "fixed" boundary at 10 s
  EXPECT_EQ(w.Count(19 * kSec - 1), 20u);
  EXPECT_EQ(w.Count(19 * kSec), 0u);
}

TEST(SlidingWindow, NextExpiryIsTheOldestEntryPlusTheWindow) {
  SlidingWindow w(10 * kSec);
  w.Add(1 * kSec);
  w.Add(4 * kSec);
  EXPECT_EQ(w.NextExpiryUs(), 11 * kSec);
  EXPECT_EQ(w.Count(11 * kSec), 1u);
  EXPECT_EQ(w.NextExpiryUs(), 14 * kSec);
  EXPECT_EQ(w.Count(14 * kSec), 0u);
  EXPECT_EQ(w.NextExpiryUs(), 0);
}

TEST(SlidingWindow, AnEarlierTimeIsTakenAsTheLatest) {
  SlidingWindow w(10 * kSec);
  w.Add(5 * kSec);
  w.Add(3 * kSec);  // clock oddity: counted at 5 s, never leaves before it would
  EXPECT_EQ(w.Count(13 * kSec), 2u);
  EXPECT_EQ(w.Count(15 * kSec), 0u);
}

TEST(SlidingWindow, SetWindowAppliesToRecordedEvents) {
  SlidingWindow w(10 * kSec);
  w.Add(0);
  w.Add(4 * kSec);
  w.SetWindow(5 * kSec);
  EXPECT_EQ(w.window_us(), 5 * kSec);
  EXPECT_EQ(w.NextExpiryUs(), 5 * kSec);
  EXPECT_EQ(w.Count(5 * kSec), 1u);
  EXPECT_EQ(w.NextExpiryUs(), 9 * kSec);
  w.SetWindow(20 * kSec);  // longer: the remaining event stays longer
  EXPECT_EQ(w.Count(23 * kSec), 1u);
  EXPECT_EQ(w.Count(24 * kSec), 0u);
}

TEST(SlidingWindow, MergingPastMaxEntriesIsStricterOnly) {
  const int64_t window = 10 * kSec;
  SlidingWindow w(window);
  TrueLog log;
  const size_t n = SlidingWindow::kMaxEntries + 500;
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = static_cast<int64_t>(i) * 1000;  // all within one window
    w.Add(t);
    log.at.push_back(t);
  }
  const int64_t last = log.at.back();
  EXPECT_EQ(w.Count(last), n);  // nothing lost by merging
  // Every later moment: the window counts at least what the true log holds.
  for (int64_t now = last; now <= last + window + 1000; now += 997) {
    const uint64_t truth = log.Count(now, window);
    SlidingWindow copy = w;
    EXPECT_GE(copy.Count(now), truth) << now;
  }
  EXPECT_EQ(w.Count(last + window), 0u);
}

// A limiter admitting while Count < limit, with the log merged many times over: no window of
// the admitted events' true times ever holds more than the limit.
TEST(SlidingWindow, LimiterNeverAdmitsMoreThanATrueLogWould) {
  const int64_t window = 2 * kSec;
  const uint64_t limit = 3000;  // more than kMaxEntries, so merging happens
  SlidingWindow w(window);
  std::vector<int64_t> admitted;
  std::mt19937_64 rng(42);
  int64_t now = 0;
  for (int i = 0; i < 200000; ++i) {
    now += static_cast<int64_t>(rng() % 200);
    if (w.Count(now) < limit) {
      w.Add(now);
      admitted.push_back(now);
    }
  }
  ASSERT_GT(admitted.size(), 2 * limit);  // the limiter did admit across many windows
  // Two pointers: the largest number of admitted events in any (t - window, t].
  size_t lo = 0, worst = 0;
  for (size_t hi = 0; hi < admitted.size(); ++hi) {
    while (admitted[lo] <= admitted[hi] - window) ++lo;
    worst = std::max(worst, hi - lo + 1);
  }
  EXPECT_LE(worst, limit);
  EXPECT_EQ(worst, limit);  // and it is a limit, not a stall
}

TEST(SlidingWindow, MemoryStaysBounded) {
  SlidingWindow w(3600 * kSec);
  for (int64_t t = 0; t < 100000; ++t) w.Add(t);
  EXPECT_EQ(w.Count(100000), 100000u);
  // The oldest entry now carries merged events with a later time than 0.
  EXPECT_GT(w.NextExpiryUs(), 3600 * kSec);
  EXPECT_LE(w.NextExpiryUs(), 3600 * kSec + 100000);
}

}  // namespace
}  // namespace ec
