#include "mta/spool/queue_id.h"

#include <chrono>

namespace ec::spool {

std::string QueueId::ToString() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out(16, '0');
  for (int i = 15, shift = 0; i >= 0; --i, shift += 4) out[i] = kHex[(value_ >> shift) & 0xF];
  return out;
}

std::optional<QueueId> QueueId::Parse(std::string_view text) {
  if (text.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return QueueId(v);
}

void QueueIdGenerator::RaiseFloor(QueueId floor) {
  uint64_t cur = last_.load(std::memory_order_relaxed);
  while (cur < floor.value() &&
         !last_.compare_exchange_weak(cur, floor.value(), std::memory_order_relaxed)) {
  }
}

QueueId QueueIdGenerator::Next() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const uint64_t from_clock =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(now).count())
      << 4;
  uint64_t cur = last_.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    // 16 ids per microsecond from the clock; a faster burst runs ahead of the clock, which
    // keeps ids unique and ordered.
    next = from_clock > cur ? from_clock : cur + 1;
  } while (!last_.compare_exchange_weak(cur, next, std::memory_order_relaxed));
  return QueueId(next);
}

}  // namespace ec::spool
