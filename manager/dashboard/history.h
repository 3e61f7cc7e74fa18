// History: the dashboard's memory of each member's last minutes, one Sample per health record
// eccmgr received, so that a browser opening the page sees a chart at once instead of
// collecting points itself. Bounded per member in count and age. Counters become rates here:
// a restarted node (new incarnation) or a counter going back starts a new run, not a negative
// rate. Owned by ManagerDaemon; loop thread of the Bus. Json is pure given `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "msgc/health_record.h"

namespace ec::manager::dashboard {

struct Sample {
  int64_t unix_ms = 0;  // eccmgr's wall clock at arrival
  uint64_t incarnation = 0;
  uint64_t received = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t queue_size = 0;
};

int64_t NowUnixMs();
// The counters of a member's record, arrived at `unix_ms`.
Sample SampleOf(const msgc::HealthRecord& record, int64_t unix_ms = NowUnixMs());

class History {
 public:
  // Defaults: 15 minutes, at most 360 samples (a record every 2.5 s) per member.
  explicit History(std::chrono::milliseconds window = std::chrono::minutes(15),
                   size_t max_samples = 360)
      : window_ms_(window.count()), max_samples_(max_samples) {}

  static constexpr int64_t kMinSpacingMs = 200;

  // A sample older than the member's last one is dropped (clock stepped back); one less than
  // kMinSpacingMs after it replaces it.
  void Add(const std::string& member, const Sample& sample);
  void Forget(const std::string& member) { members_.erase(member); }
  size_t size(const std::string& member) const;

  // {"now_ms":N,"window_ms":N,"members":{"node1":[{"t":ms,"received_per_s":x|null,
  // "delivered_per_s":x|null,"failed_per_s":x|null,"queue":n},...]}}. A point's rates cover
  // the time since the previous sample of the same run; the first point of a run has null.
  // Samples older than the window at `now_ms` are left out.
  std::string Json(int64_t now_ms) const;

 private:
  int64_t window_ms_;
  size_t max_samples_;
  std::map<std::string, std::deque<Sample>> members_;
};

}  // namespace ec::manager::dashboard
