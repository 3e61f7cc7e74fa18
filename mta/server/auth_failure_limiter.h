// AuthFailureLimiter: counts failed SMTP AUTH attempts per client IP so one address cannot
// brute-force passwords: after kMaxFailures failures within kWindow the address's AUTH
// commands are refused (454) without checking the password until the window ends. Shared by
// every session of one ecmta (InboundServices); loop thread only. Memory is bounded: at most
// kMaxTracked addresses, expired entries dropped first.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace ec::mta {

class AuthFailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxFailures = 10;
  static constexpr std::chrono::seconds kWindow{600};
  static constexpr size_t kMaxTracked = 10000;

  // True while `ip` has used up its failures in the current window.
  bool Blocked(const std::string& ip, Clock::time_point now) const;
  void Failed(const std::string& ip, Clock::time_point now);
  size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point window_start;
  };
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ec::mta
