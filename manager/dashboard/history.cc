#include "manager/dashboard/history.h"

#include <cstdio>

namespace ec::manager::dashboard {
namespace {

// Per second between two samples of one run, or null when they are not comparable.
std::string Rate(uint64_t before, uint64_t after, int64_t ms, bool same_run) {
  if (!same_run || ms <= 0 || after < before) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", static_cast<double>(after - before) * 1000.0 / ms);
  return buf;
}

}  // namespace

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Sample SampleOf(const msgc::HealthRecord& r, int64_t unix_ms) {
  return {unix_ms, r.incarnation, r.received, r.delivered, r.failed, r.queue_size};
}

void History::Add(const std::string& member, const Sample& sample) {
  std::deque<Sample>& samples = members_[member];
  if (!samples.empty() && sample.unix_ms < samples.back().unix_ms) return;
  // A record fetched right after a member came alive may closely follow a shouted one: over a
  // few milliseconds one message would look like a burst, so the later one replaces it.
  if (!samples.empty() && sample.unix_ms - samples.back().unix_ms < kMinSpacingMs) {
    samples.back() = sample;
    return;
  }
  samples.push_back(sample);
  while (samples.size() > max_samples_ ||
         (!samples.empty() && samples.front().unix_ms < sample.unix_ms - window_ms_)) {
    samples.pop_front();
  }
}

size_t History::size(const std::string& member) const {
  auto it = members_.find(member);
  return it == members_.end() ? 0 : it->second.size();
}

std::string History::Json(int64_t now_ms) const {
  std::string out = "{\"now_ms\":" + std::to_string(now_ms) +
                    ",\"window_ms\":" + std::to_string(window_ms_) + ",\"members\":{";
  bool first_member = true;
  for (const auto& [member, samples] : members_) {
    out += (first_member ? "" : ",") + msgc::JsonQuote(member) + ":[";
    first_member = false;
    const Sample* previous = nullptr;
    bool first_point = true;
    for (const Sample& s : samples) {
      // The previous sample still gives the first point in the window its rate.
      const Sample* before = previous;
      previous = &s;
      if (s.unix_ms < now_ms - window_ms_) continue;
      const bool same_run = before && before->incarnation == s.incarnation &&
                            s.received >= before->received && s.delivered >= before->delivered &&
                            s.failed >= before->failed;
      const int64_t ms = before ? s.unix_ms - before->unix_ms : 0;
      out += first_point ? "{" : ",{";
      first_point = false;
      out += "\"t\":" + std::to_string(s.unix_ms);
      out += ",\"received_per_s\":" +
             (before ? Rate(before->received, s.received, ms, same_run) : "null");
      out += ",\"delivered_per_s\":" +
             (before ? Rate(before->delivered, s.delivered, ms, same_run) : "null");
      out += ",\"failed_per_s\":" + (before ? Rate(before->failed, s.failed, ms, same_run) : "null");
      out += ",\"queue\":" + std::to_string(s.queue_size) + "}";
    }
    out += ']';
  }
  out += "}}\n";
  return out;
}

}  // namespace ec::manager::dashboard
