// DelayedQueue: the scheduler's (queue, message) entries waiting for their retry time, earliest
// first. A binary min-heap in a std::deque: 24 bytes an entry (due time, queue, id) where the
// std::multimap it replaces took a 64-byte tree node each, which was most of the heap a deferred
// message costs (bench/queue: 142 B per deferred message before, 87 B per ready one). A deque
// grows in fixed blocks, so a million entries never hold a vector's up-to-2x spare capacity.
// Entries with the same due time come out in id order (ids grow with time: about the order
// they were queued in). Removing by a predicate is O(n) and rebuilds the heap: only console
// commands and moves do it. Header-only: the queue type is the scheduler's private Domain.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <tuple>
#include <vector>

#include "mta/spool/queue_id.h"

namespace ec::outbound {

template <typename Queue>
class DelayedQueue {
 public:
  struct Entry {
    int64_t due_us = 0;
    Queue* queue = nullptr;
    spool::QueueId id;
  };

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The earliest due time; only when !empty().
  int64_t next_due_us() const { return heap_.front().due_us; }

  void Push(int64_t due_us, Queue* queue, spool::QueueId id) {
    heap_.push_back(Entry{due_us, queue, id});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }

  // Takes out the earliest entry; only when !empty().
  Entry Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    Entry e = heap_.back();
    heap_.pop_back();
    ShrinkIfSparse();
    return e;
  }

  // Takes out every entry `pred` is true for and returns them earliest first.
  template <typename Pred>
  std::vector<Entry> RemoveIf(Pred pred) {
    auto keep_end = std::partition(heap_.begin(), heap_.end(),
                                   [&pred](const Entry& e) { return !pred(e); });
    std::vector<Entry> out(keep_end, heap_.end());
    if (out.empty()) return out;
    heap_.erase(keep_end, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), Later);
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return Later(b, a); });
    ShrinkIfSparse();
    return out;
  }

  // Every entry, in no particular order; `fn` returns false to stop.
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const Entry& e : heap_) {
      if (!fn(e)) return;
    }
  }

 private:
  // The heap's order: a "less" that puts the earliest (due, id) on top.
  static bool Later(const Entry& a, const Entry& b) {
    return std::tie(a.due_us, a.id) > std::tie(b.due_us, b.id);
  }
  // A deque keeps its block map after a mass removal; give it back once mostly empty.
  void ShrinkIfSparse() {
    if (heap_.empty()) heap_.shrink_to_fit();
  }

  std::deque<Entry> heap_;
};

}  // namespace ec::outbound
