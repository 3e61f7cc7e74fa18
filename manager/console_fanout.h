// ConsoleFanout: eccmgr's delegation of console commands to the nodes over the bus. A command
// goes as one REQUEST per node on control_group (ec_console); each node runs it at its own
// console and replies with the output. Every request has its own deadline, so a node that hangs
// is reported as timed out while the others' answers are gathered as they come. The last
// answers of each command are kept for `retrieve` (Momentum's control cache).
// Owned by ManagerDaemon; loop thread of the Bus only; the Bus must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/event/event_base.h"
#include "msgc/bus.h"

namespace ec::manager {

struct NodeAnswer {
  enum class Outcome { kOk, kError, kTimedOut, kUnreachable };
  std::string node;
  Outcome outcome = Outcome::kOk;
  std::string text;  // the output, or why there is none
  std::chrono::milliseconds took{0};
  std::chrono::system_clock::time_point at;  // when the answer (or its absence) was settled
};
std::string_view OutcomeName(NodeAnswer::Outcome outcome);

struct FanoutResult {
  std::string command;
  std::vector<NodeAnswer> answers;  // sorted by node name
};

// "broadcast summary: 3 answered, 1 timed out" then "== node1 (ok, 12 ms) ==" and the output
// of each node.
std::string FormatFanout(std::string_view verb, const FanoutResult& result);

class ConsoleFanout {
 public:
  using Done = std::function<void(FanoutResult)>;

  ConsoleFanout(event::EventBase& base, msgc::Bus& bus, std::string group,
                std::chrono::milliseconds timeout);
  ~ConsoleFanout();
  ConsoleFanout(const ConsoleFanout&) = delete;
  ConsoleFanout& operator=(const ConsoleFanout&) = delete;

  // Every node that has joined the control group during our lifetime: the live ones get the
  // command, the ones that are now down are reported unreachable. `done` runs once, on the
  // loop, when the last node answered or timed out (never inside this call).
  void Broadcast(const std::string& command, Done done);
  // One node (any configured bus member).
  void Unicast(const std::string& node, const std::string& command, Done done);

  // The cached answers of the last broadcast/unicast of `command`, or nullptr.
  const FanoutResult* Cached(const std::string& command) const;
  std::vector<std::string> CachedCommands() const;
  // Remember a node that joined the control group (from the bus's membership events).
  void NoteMember(const std::string& node) { known_nodes_.insert(node); }
  // The node left the configuration (config reload).
  void ForgetMember(const std::string& node) { known_nodes_.erase(node); }
  const std::set<std::string>& known_nodes() const { return known_nodes_; }

 private:
  struct Pending;
  void Send(std::vector<std::string> nodes, const std::string& command, Done done);
  void Store(const FanoutResult& result);

  event::EventBase& base_;
  msgc::Bus& bus_;
  const std::string group_;
  const std::chrono::milliseconds timeout_;
  std::set<std::string> known_nodes_;
  std::map<std::string, FanoutResult> cache_;
  std::deque<std::string> cache_order_;  // oldest first, for eviction
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ec::manager
