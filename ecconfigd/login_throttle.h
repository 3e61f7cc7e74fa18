// LoginThrottle: counts failed logins (wrong password or cluster secret) per client address in
// a sliding window; an address with `max_failures` failures inside the window is refused (429)
// until its oldest counted failure leaves the window, whatever it sends, so guessing costs time
// and other addresses are not affected. Memory is bounded: at most `max_addresses` are tracked,
// the stalest forgotten first. Owned by the ConfigServer; loop thread only. The clock is passed
// in so tests need no sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <string>

namespace ec::ecconfigd {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    int max_failures = 10;
    std::chrono::seconds window{60};
    size_t max_addresses = 10000;
  };
  explicit LoginThrottle(Limits limits) : limits_(limits) {}

  // How long `address` must still wait; zero when it may try.
  std::chrono::seconds Blocked(const std::string& address, Clock::time_point now);
  void Failure(const std::string& address, Clock::time_point now);
  // A good login does not wipe the count: an attacker who also knows one password gains nothing.
  size_t tracked() const { return failures_.size(); }

 private:
  void Expire(std::deque<Clock::time_point>& times, Clock::time_point now) const;

  Limits limits_;
  std::map<std::string, std::deque<Clock::time_point>> failures_;
};

}  // namespace ec::ecconfigd
