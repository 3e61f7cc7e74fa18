// QueueId: the spool's name for one accepted message, also the message id in every log line.
// A 64-bit value, microseconds since the epoch shifted left 4 bits plus a counter, shown as 16
// upper-case hex digits ("0005F3A2B1C4D00A") so ids sort by acceptance time both as numbers and
// as strings. QueueIdGenerator is thread-safe; Spool owns one and seeds it past every id found
// on disk, so ids stay unique across restarts even if the clock steps back.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ec::spool {

class QueueId {
 public:
  constexpr QueueId() = default;
  constexpr explicit QueueId(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }
  std::string ToString() const;
  // Accepts exactly 16 hex digits (either case); anything else is nullopt.
  static std::optional<QueueId> Parse(std::string_view text);
  // Acceptance time encoded in the id, microseconds since the epoch.
  constexpr int64_t micros() const { return static_cast<int64_t>(value_ >> 4); }

  friend constexpr auto operator<=>(QueueId, QueueId) = default;

 private:
  uint64_t value_ = 0;  // 0 is never issued
};

class QueueIdGenerator {
 public:
  // Every id issued from now on is greater than `floor`.
  void RaiseFloor(QueueId floor);
  // Unique and strictly increasing within this generator.
  QueueId Next();
  QueueId last() const { return QueueId(last_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<uint64_t> last_{0};
};

}  // namespace ec::spool

template <>
struct std::hash<ec::spool::QueueId> {
  size_t operator()(ec::spool::QueueId id) const noexcept {
    return std::hash<uint64_t>()(id.value());
  }
};
