#include "common/auth/failure_limiter.h"

#include <iterator>

namespace ec::auth {

bool FailureLimiter::Blocked(const std::string& ip, Clock::time_point now) const {
  auto it = entries_.find(ip);
  return it != entries_.end() && now - it->second.window_start < window_ &&
         it->second.failures >= max_failures_;
}

void FailureLimiter::Failed(const std::string& ip, Clock::time_point now) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxTracked) {
      for (auto e = entries_.begin(); e != entries_.end();) {
        e = now - e->second.window_start >= window_ ? entries_.erase(e) : std::next(e);
      }
      // Still full of live entries: forget them all rather than grow (an attacker with more
      // than kMaxTracked addresses gets a fresh budget, never unbounded memory).
      if (entries_.size() >= kMaxTracked) entries_.clear();
    }
    it = entries_.emplace(ip, Entry{0, now}).first;
  }
  if (now - it->second.window_start >= window_) it->second = Entry{0, now};
  ++it->second.failures;
}

}  // namespace ec::auth
