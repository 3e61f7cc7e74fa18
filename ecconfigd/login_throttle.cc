#include "ecconfigd/login_throttle.h"

#include <algorithm>

namespace ec::ecconfigd {

void LoginThrottle::Expire(std::deque<Clock::time_point>& times, Clock::time_point now) const {
  while (!times.empty() && now - times.front() >= limits_.window) times.pop_front();
}

std::chrono::seconds LoginThrottle::Blocked(const std::string& address, Clock::time_point now) {
  auto it = failures_.find(address);
  if (it == failures_.end()) return std::chrono::seconds(0);
  Expire(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return std::chrono::seconds(0);
  }
  if (static_cast<int>(it->second.size()) < limits_.max_failures) return std::chrono::seconds(0);
  auto left = std::chrono::ceil<std::chrono::seconds>(it->second.front() + limits_.window - now);
  return std::max(left, std::chrono::seconds(1));
}

void LoginThrottle::Failure(const std::string& address, Clock::time_point now) {
  if (failures_.size() >= limits_.max_addresses && failures_.count(address) == 0) {
    // Forget expired entries, then (still full) the address whose last failure is oldest.
    for (auto it = failures_.begin(); it != failures_.end();) {
      Expire(it->second, now);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
    if (failures_.size() >= limits_.max_addresses) {
      auto stalest = std::min_element(failures_.begin(), failures_.end(), [](auto& a, auto& b) {
        return a.second.back() < b.second.back();
      });
      failures_.erase(stalest);
    }
  }
  auto& times = failures_[address];
  Expire(times, now);
  times.push_back(now);
  // Only the newest max_failures matter for the decision.
  while (static_cast<int>(times.size()) > limits_.max_failures) times.pop_front();
}

}  // namespace ec::ecconfigd
