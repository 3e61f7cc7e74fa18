// Private parts of Scheduler shared by scheduler.cc (queues, connections, outcomes) and
// scheduler_bounce.cc (DSNs, and the originals that wait for them). Not for use outside
// mta/outbound. Loop thread only, like the Scheduler.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mta/outbound/scheduler.h"

namespace ec::outbound {

inline constexpr int64_t kSecond = 1000000;  // microseconds

// How one recipient failed for good.
struct Scheduler::Outcome {
  ServerReply reply;
  int stage = 0;
  bool expired = false;
};

// The DSN one transaction owes its sender. The failed recipients' final states are journaled only
// once it is durable, so a full disk can lose neither the DSN nor the original.
struct Scheduler::OwedBounce {
  std::vector<std::pair<uint32_t, Outcome>> failed;
  std::vector<std::pair<uint32_t, std::string>> relayed;  // (index, the accepting reply)
  std::string remote;
  std::vector<spool::RecipientUpdate> final_states;  // of `failed`; empty: nothing waits
  uint32_t attempts = 0;                             // failed tries to write the DSN
};

}  // namespace ec::outbound
