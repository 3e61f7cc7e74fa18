#include "tests/unit/msgc/bus_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "common/base/check.h"

namespace ec::msgc::testing {

TestLoop::TestLoop() : base_(event_base_new()) {
  EC_CHECK(base_ != nullptr);
  tick_ = event_new(
      base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  const timeval tv = {0, 10000};
  EC_CHECK(event_add(tick_, &tv) == 0);
}

TestLoop::~TestLoop() {
  event_free(tick_);
  event_base_free(base_);
}

bool TestLoop::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    event_base_loop(base_, EVLOOP_ONCE);
  }
  return done();
}

void TestLoop::RunFor(std::chrono::milliseconds duration) {
  RunUntil([] { return false; }, duration);
}

LogFn LogCollector::Fn() {
  auto lines = lines_;
  return [lines](std::string_view line) {
    lines->emplace_back(line);
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  };
}

bool LogCollector::Contains(const std::string& needle) const {
  for (const std::string& line : *lines_) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::vector<std::string> LogCollector::Lines() const { return *lines_; }

std::string LoopbackAddress(int i) { return "127.0.0." + std::to_string(2 + i); }

uint16_t FreePortOnLoopbacks(int count) {
  std::mt19937 rng(std::random_device{}());
  // Below Linux's ephemeral range (32768-60999), so no outgoing connection takes it meanwhile.
  std::uniform_int_distribution<int> dist(20000, 32000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint16_t port = static_cast<uint16_t>(dist(rng));
    bool free = true;
    for (int i = 0; i < count && free; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      EC_CHECK(fd >= 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      ::inet_pton(AF_INET, LoopbackAddress(i).c_str(), &addr.sin_addr);
      free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(fd);
    }
    if (free) return port;
  }
  EC_PANIC("no free port on the loopback addresses");
}

BusOptions TestOptions(int count, int self, uint16_t port, LogFn log) {
  BusOptions options;
  options.self = "n" + std::to_string(self);
  for (int i = 0; i < count; ++i) options.peers["n" + std::to_string(i)] = LoopbackAddress(i);
  options.port = port;
  options.heartbeat_interval = kHeartbeat;
  options.dead_timeout = kDeadTimeout;
  options.view_mature_time = std::chrono::milliseconds(300);
  options.log = std::move(log);
  return options;
}

}  // namespace ec::msgc::testing
