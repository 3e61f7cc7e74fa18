#include "manager/console_fanout.h"

#include <algorithm>
#include <cstdio>

namespace ec::manager {
namespace {

constexpr size_t kMaxCachedCommands = 64;

std::string Took(std::chrono::milliseconds ms) {
  char buf[32];
  if (ms.count() < 1000) {
    std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(ms.count()));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", ms.count() / 1000.0);
  }
  return buf;
}

}  // namespace

std::string_view OutcomeName(NodeAnswer::Outcome outcome) {
  switch (outcome) {
    case NodeAnswer::Outcome::kOk:
      return "ok";
    case NodeAnswer::Outcome::kError:
      return "error";
    case NodeAnswer::Outcome::kTimedOut:
      return "timed out";
    case NodeAnswer::Outcome::kUnreachable:
      return "unreachable";
  }
  return "?";
}

std::string FormatFanout(std::string_view verb, const FanoutResult& result) {
  size_t counts[4] = {0, 0, 0, 0};
  for (const NodeAnswer& a : result.answers) ++counts[static_cast<int>(a.outcome)];
  std::string out = std::string(verb) + " " + result.command + ": " +
                    std::to_string(result.answers.size()) + " nodes, " + std::to_string(counts[0]) +
                    " answered, " + std::to_string(counts[1]) + " failed, " +
                    std::to_string(counts[2]) + " timed out, " + std::to_string(counts[3]) +
                    " unreachable\n";
  if (result.answers.empty()) out += "(no node has joined the control group)\n";
  for (const NodeAnswer& a : result.answers) {
    out += "== " + a.node + " (" + std::string(OutcomeName(a.outcome));
    if (a.outcome == NodeAnswer::Outcome::kTimedOut) {
      out += " after " + Took(a.took);
    } else if (a.outcome != NodeAnswer::Outcome::kUnreachable) {
      out += ", " + Took(a.took);
    }
    out += ") ==\n" + a.text;
    if (!a.text.empty() && a.text.back() != '\n') out += '\n';
  }
  return out;
}

// One fan-out in flight: shared by the per-node callbacks, finished by the last one.
struct ConsoleFanout::Pending {
  FanoutResult result;
  size_t outstanding = 0;
  Done done;
};

ConsoleFanout::ConsoleFanout(event::EventBase& base, msgc::Bus& bus, std::string group,
                             std::chrono::milliseconds timeout)
    : base_(base), bus_(bus), group_(std::move(group)), timeout_(timeout) {}

ConsoleFanout::~ConsoleFanout() { *alive_ = false; }

void ConsoleFanout::Broadcast(const std::string& command, Done done) {
  std::vector<std::string> nodes(known_nodes_.begin(), known_nodes_.end());
  Send(std::move(nodes), command, std::move(done));
}

void ConsoleFanout::Unicast(const std::string& node, const std::string& command, Done done) {
  Send({node}, command, std::move(done));
}

void ConsoleFanout::Send(std::vector<std::string> nodes, const std::string& command, Done done) {
  auto pending = std::make_shared<Pending>();
  pending->result.command = command;
  pending->done = std::move(done);
  pending->outstanding = nodes.size();
  pending->result.answers.resize(nodes.size());
  std::weak_ptr<bool> alive = alive_;
  auto finish = [this, alive, pending] {
    if (--pending->outstanding != 0) return;
    if (!alive.expired()) Store(pending->result);
    pending->done(std::move(pending->result));
  };
  if (nodes.empty()) {
    // Still never inside the call: Done may take locks or write to the session.
    pending->outstanding = 1;
    base_.RunInLoop(finish);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeAnswer& slot = pending->result.answers[i];
    slot.node = nodes[i];
    auto on_reply = [pending, i, start, finish](Result<std::string> reply) {
      NodeAnswer& a = pending->result.answers[i];
      a.took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      a.at = std::chrono::system_clock::now();
      if (reply.ok()) {
        a.outcome = NodeAnswer::Outcome::kOk;
        a.text = std::move(reply).value();
      } else if (reply.status().code() == StatusCode::kDeadlineExceeded) {
        a.outcome = NodeAnswer::Outcome::kTimedOut;
        a.text = "no answer within the deadline\n";
      } else if (reply.status().code() == StatusCode::kFailedPrecondition) {
        a.outcome = NodeAnswer::Outcome::kError;
        a.text = "error: " + reply.status().message() + "\n";
      } else {
        a.outcome = NodeAnswer::Outcome::kUnreachable;
        a.text = reply.status().message() + "\n";
      }
      finish();
    };
    if (nodes[i] != bus_.name() && !bus_.IsAlive(nodes[i])) {
      // Known to be down: say so without waiting for a deadline.
      base_.RunInLoop([on_reply, node = nodes[i]] {
        on_reply(Unavailable("node " + node + " is not alive on the bus"));
      });
      continue;
    }
    bus_.Request(nodes[i], group_, command, timeout_, on_reply);
  }
}

void ConsoleFanout::Store(const FanoutResult& result) {
  if (cache_.count(result.command) == 0) {
    cache_order_.push_back(result.command);
    if (cache_order_.size() > kMaxCachedCommands) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  // A unicast refreshes only its node's entry.
  FanoutResult& cached = cache_[result.command];
  cached.command = result.command;
  for (const NodeAnswer& a : result.answers) {
    auto it = std::find_if(cached.answers.begin(), cached.answers.end(),
                           [&a](const NodeAnswer& c) { return c.node == a.node; });
    if (it == cached.answers.end()) {
      cached.answers.push_back(a);
    } else {
      *it = a;
    }
  }
  std::sort(cached.answers.begin(), cached.answers.end(),
            [](const NodeAnswer& x, const NodeAnswer& y) { return x.node < y.node; });
}

const FanoutResult* ConsoleFanout::Cached(const std::string& command) const {
  auto it = cache_.find(command);
  return it == cache_.end() ? nullptr : &it->second;
}

std::vector<std::string> ConsoleFanout::CachedCommands() const {
  return {cache_order_.begin(), cache_order_.end()};
}

}  // namespace ec::manager
