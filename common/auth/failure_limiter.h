// FailureLimiter: counts failed logins per client IP so one address cannot brute-force
// passwords: after max_failures failures within the window the address's logins are refused
// without checking the password until the window ends. Used by SMTP AUTH (one per ecmta, in
// InboundServices) and the TCP console (one per control Server). Loop thread only. Memory is
// bounded: at most kMaxTracked addresses, expired entries dropped first.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace ec::auth {

class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxFailures = 10;
  static constexpr std::chrono::seconds kWindow{600};
  static constexpr size_t kMaxTracked = 10000;

  explicit FailureLimiter(int max_failures = kMaxFailures,
                          std::chrono::milliseconds window = kWindow)
      : max_failures_(max_failures), window_(window) {}

  // True while `ip` has used up its failures in the current window.
  bool Blocked(const std::string& ip, Clock::time_point now) const;
  void Failed(const std::string& ip, Clock::time_point now);
  size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point window_start;
  };
  int max_failures_;
  std::chrono::milliseconds window_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ec::auth
