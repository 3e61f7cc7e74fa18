#include "common/base/sliding_window.h"

#include <algorithm>

namespace ec {

void SlidingWindow::Expire(int64_t now_us) {
  // An event exactly one window old has left: the window is (now - window, now].
  while (!entries_.empty() && entries_.front().at_us <= now_us - window_us_) {
    total_ -= entries_.front().count;
    entries_.pop_front();
  }
}

uint64_t SlidingWindow::Count(int64_t now_us) {
  Expire(now_us);
  return total_;
}

void SlidingWindow::Add(int64_t now_us, uint64_t n) {
  if (n == 0) return;
  Expire(now_us);
  // Times only move forward here; an earlier one (a caller's clock oddity) is taken as the
  // latest, which keeps the log sorted and can only make the window stricter.
  if (!entries_.empty()) now_us = std::max(now_us, entries_.back().at_us);
  total_ += n;
  if (!entries_.empty() && entries_.back().at_us == now_us) {
    entries_.back().count += n;
    return;
  }
  entries_.push_back({now_us, n});
  if (entries_.size() > kMaxEntries) {
    // The oldest entry's events now leave with the next one's (later) time: stricter only.
    entries_[1].count += entries_[0].count;
    entries_.pop_front();
  }
}

int64_t SlidingWindow::NextExpiryUs() const {
  return entries_.empty() ? 0 : entries_.front().at_us + window_us_;
}

}  // namespace ec
