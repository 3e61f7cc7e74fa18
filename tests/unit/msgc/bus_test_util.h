// Helpers for bus tests: a libevent loop that tests can run until a condition holds (with a
// deadline), a free port shared by loopback addresses 127.0.0.2..., short-timer BusOptions and
// a log collector. Test thread only.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "msgc/bus.h"

namespace ec::msgc::testing {

inline constexpr auto kHeartbeat = std::chrono::milliseconds(100);
inline constexpr auto kDeadTimeout = std::chrono::milliseconds(600);
// How long a test waits for the buses to see each other (or a peer's death).
inline constexpr auto kConverge = std::chrono::seconds(10);

// Owns an event_base with a 10 ms tick so RunUntil can re-check its condition.
class TestLoop {
 public:
  TestLoop();
  ~TestLoop();
  event_base* base() const { return base_; }
  // Runs the loop until `done()` or `timeout`; returns done().
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Runs the loop for `duration` (for "nothing happens" checks that have no event to wait on).
  void RunFor(std::chrono::milliseconds duration);

 private:
  event_base* base_;
  ::event* tick_;
};

// Log lines of one bus, kept for assertions (and echoed to stderr for failing tests).
class LogCollector {
 public:
  LogFn Fn();
  bool Contains(const std::string& needle) const;
  std::vector<std::string> Lines() const;

 private:
  std::shared_ptr<std::vector<std::string>> lines_ = std::make_shared<std::vector<std::string>>();
};

// "127.0.0.<2+i>" for node i.
std::string LoopbackAddress(int i);
// A TCP port free on every address LoopbackAddress(0..count-1) right now.
uint16_t FreePortOnLoopbacks(int count);
// Nodes "n0".."n<count-1>" on LoopbackAddress(i), short timers, plain text.
BusOptions TestOptions(int count, int self, uint16_t port, LogFn log);

}  // namespace ec::msgc::testing
