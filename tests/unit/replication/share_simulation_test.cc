// The allocator in a simulated cluster: 2..10 nodes, one object, demand changing at random,
// reports and grants delayed at random and reordered between senders but in order per sender
// (as the bus delivers). Nodes start units only below the grant they hold, release them at
// random, and apply only their leader's grants with a seq past the last they applied. Checked at
// every step: the units the nodes hold or may start never sum past the limit. Checked once the
// demand has stayed put long enough: every node holds and uses its fair target. Variants: a
// lower-named node joins (the leader changes), the leader dies (its units vanish with it).
// Deterministic: a failure names its seed.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <queue>
#include <set>

#include "replication/share_allocator.h"
#include "replication/shared_table.h"
#include "tests/unit/testing/run_budget.h"

namespace ec::replication {
namespace {

constexpr char kKey[] = "obtc/x";  // short: the figures' copies need no allocation

enum class Scenario { kSteady, kLowerJoins, kLeaderDies };

using AllocateFn = std::function<std::vector<Grant>(
    const std::string&, uint64_t, const std::vector<NodeShare>&, AllocatorState*)>;

// splitmix64: the same numbers on every platform, unlike std::uniform_int_distribution.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Percent(uint64_t p) { return Below(100) < p; }

 private:
  uint64_t state_;
};

struct SimResult {
  std::string failure;     // "" when every check held
  bool saturated = false;  // the nodes used the whole limit at some step
  uint64_t grants_applied = 0;
};

class Sim {
 public:
  Sim(uint64_t seed, Scenario scenario, AllocateFn allocate)
      : rng_(seed), scenario_(scenario), allocate_(std::move(allocate)) {
    const size_t n = 2 + rng_.Below(9);
    limit_ = 1 + rng_.Below(30);
    max_delay_ = 1 + rng_.Below(6);
    report_gap_ = 1 + rng_.Below(4);
    release_percent_ = 5 + rng_.Below(30);
    event_at_ = rng_.Below(kRandomSteps);
    for (size_t i = 0; i < n; ++i) {
      nodes_.push_back({.name = "n" + std::to_string(i)});
      members_.push_back(nodes_.back().name);
    }
    // Node 0 has the lowest name: it is the leader, or the one that joins and takes over.
    for (size_t i = 0; i < n; ++i) nodes_[i].up = scenario_ != Scenario::kLowerJoins || i != 0;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) {
        if (nodes_[j].up || i == j) nodes_[i].view.insert(static_cast<int>(j));
      }
    }
    last_at_.assign(n * n, 0);
  }

  SimResult Run() {
    for (now_ = 0; now_ < kRandomSteps + kQuietSteps && result_.failure.empty(); ++now_) Step();
    if (result_.failure.empty()) CheckFairTargets();
    return result_;
  }

 private:
  static constexpr uint64_t kRandomSteps = 120;  // demand changes; the scenario's event
  static constexpr uint64_t kQuietSteps = 150;   // demand stays put: everyone must converge
  static constexpr uint64_t kRefresh = 16;       // full reports and grants this often

  struct Node {
    std::string name;
    bool up = false;
    std::set<int> view;  // who it sees alive, itself included
    std::string leader;
    uint64_t want = 0, usage = 0, held = 0, applied_seq = 0;
    SharedTable table;  // the reports it received (its own applied directly)
    AllocatorState allocator;
    ReportMessage last_report;
    bool must_report = true;
    uint64_t reported_at = 0;
    bool news = true;  // a report arrived or the view changed since it last allocated
    bool view_changed = true;
  };
  struct Envelope {
    uint64_t at, order;
    int from, to;
    std::shared_ptr<const ReportMessage> report;  // or
    std::shared_ptr<const std::vector<Grant>> grants;
    bool operator>(const Envelope& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void Send(int from, int to, Envelope e) {
    uint64_t& last = last_at_[from * nodes_.size() + to];
    last = std::max(last, now_ + rng_.Below(max_delay_ + 1));  // in order per sender
    e.at = last;
    e.order = order_++;
    e.from = from;
    e.to = to;
    bus_.push(std::move(e));
  }

  void Fail(const std::string& what) {
    if (result_.failure.empty()) result_.failure = "step " + std::to_string(now_) + ": " + what;
  }

  // What the nodes hold or use (whichever is more) never sums past the limit.
  void CheckSafety() {
    uint64_t committed = 0, used = 0;
    for (const Node& n : nodes_) {
      if (!n.up) continue;
      committed += std::max(n.usage, n.held);
      used += n.usage;
    }
    if (committed > limit_) {
      Fail("nodes hold or use " + std::to_string(committed) + " > limit " + std::to_string(limit_));
    }
    if (used == limit_) result_.saturated = true;
  }

  void ChangeView(Node& n, int other, bool alive) {
    if (alive) {
      n.view.insert(other);
    } else {
      n.view.erase(other);
      n.table.Forget(nodes_[other].name);
    }
    n.must_report = true;  // a joiner gets our snapshot
    n.news = true;
    n.view_changed = true;
  }

  void Event() {
    if (now_ == event_at_ && scenario_ != Scenario::kSteady) {
      Node& zero = nodes_[0];
      zero.up = scenario_ == Scenario::kLowerJoins;
      for (size_t j = 0; j < nodes_.size(); ++j) zero.view.insert(static_cast<int>(j));
      zero.view_changed = true;
      zero.usage = zero.held = 0;  // a new process, or a dead one's units vanish
      for (size_t i = 1; i < nodes_.size(); ++i) {
        view_changes_.push_back({now_ + rng_.Below(10), static_cast<int>(i)});  // others see it
      }
    }
    for (auto it = view_changes_.begin(); it != view_changes_.end();) {
      if (it->first > now_) {
        ++it;
        continue;
      }
      if (nodes_[it->second].up) ChangeView(nodes_[it->second], 0, nodes_[0].up);
      it = view_changes_.erase(it);
    }
  }

  void Deliver() {
    while (!bus_.empty() && bus_.top().at <= now_) {
      Envelope e = bus_.top();
      bus_.pop();
      Node& to = nodes_[e.to];
      if (!to.up) continue;  // a dead node's mail is lost; what it sent may still arrive
      if (e.report) {
        to.table.Apply(nodes_[e.from].name, *e.report);
        to.news = true;
        continue;
      }
      if (to.leader != nodes_[e.from].name) continue;  // not the leader it follows
      for (const Grant& g : *e.grants) {
        if (g.node == to.name && g.seq > to.applied_seq) {
          to.held = g.units;
          to.applied_seq = g.seq;
          ++result_.grants_applied;
        }
      }
      CheckSafety();
    }
  }

  std::vector<std::string> ViewNames(const Node& n) const {
    std::vector<std::string> names;
    for (int i : n.view) names.push_back(nodes_[i].name);
    return names;
  }

  void Work(int i) {
    Node& n = nodes_[i];
    if (n.view_changed) {
      n.view_changed = false;
      const std::string leader = LeaderOf(ViewNames(n), members_).value_or("");
      if (leader != n.leader) {
        n.leader = leader;
        n.applied_seq = 0;  // seqs are the new leader's
      }
    }
    if (n.leader.empty()) n.held = StaticShare(limit_, members_.size());
    if (now_ < kRandomSteps && rng_.Percent(10)) {
      n.want = rng_.Percent(20) ? 0 : rng_.Below(limit_ + limit_ / 2 + 2);
    }
    uint64_t released = 0;
    for (uint64_t u = 0; u < n.usage; ++u) released += rng_.Percent(release_percent_) ? 1 : 0;
    n.usage -= released;
    while (n.usage < std::min(n.held, n.want)) ++n.usage;  // a unit starts only under the grant
  }

  static bool SameFigures(const ReportMessage& a, const ReportMessage& b) {
    return a.leader == b.leader && a.objects == b.objects;
  }

  void Report(int i) {
    Node& n = nodes_[i];
    ReportMessage r{.leader = n.leader, .full = n.must_report};
    r.objects.push_back({.key = kKey,
                         .limit = limit_,
                         .usage = n.usage,
                         .demand = std::min(limit_, std::max(n.usage, n.want)),
                         .held = n.held,
                         .acked_seq = n.applied_seq});
    n.table.Apply(n.name, r);
    // On a change at most every report_gap_ steps (Replicate max_delay), and in full every
    // refresh interval and when the view changed.
    const bool refresh = (now_ + i) % kRefresh == 0;
    r.full = r.full || refresh;
    if (!n.must_report && !refresh &&
        (now_ < n.reported_at + report_gap_ || SameFigures(r, n.last_report))) {
      return;
    }
    n.news = true;
    n.must_report = false;
    n.reported_at = now_;
    n.last_report = r;
    auto shared = std::make_shared<const ReportMessage>(std::move(r));
    for (int j : n.view) {
      if (j != i) Send(i, j, {.report = shared});
    }
  }

  void Lead(int i) {
    Node& n = nodes_[i];
    const bool refresh = now_ % kRefresh == 0;
    if (n.leader != n.name || (!n.news && !refresh)) return;
    n.news = false;
    std::vector<NodeShare> live;
    for (int j : n.view) {
      const std::string& name = nodes_[j].name;
      const ObjectFigures* f = n.table.Find(name, kKey);
      if (f == nullptr) {
        live.push_back({.node = name});  // no report yet: names no leader, so increases wait
        continue;
      }
      live.push_back({.node = name,
                      .leader = n.table.LeaderOf(name),
                      .usage = f->usage,
                      .demand = f->demand,
                      .held = f->held,
                      .acked_seq = f->acked_seq});
    }
    std::vector<Grant> grants = allocate_(n.name, limit_, live, &n.allocator);
    if (refresh) {  // the periodic repair sends them all again
      grants.clear();
      for (const auto& [node, g] : n.allocator.granted) grants.push_back(g);
    }
    if (grants.empty()) return;
    auto shared = std::make_shared<const std::vector<Grant>>(std::move(grants));
    for (int j : n.view) Send(i, j, {.grants = shared});
  }

  void Step() {
    Event();
    Deliver();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].up) Work(static_cast<int>(i));
    }
    CheckSafety();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].up) Report(static_cast<int>(i));
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].up) Lead(static_cast<int>(i));
    }
  }

  // Demand has not moved for kQuietSteps: each node holds and uses its fair target; a node
  // without a leader stays within its static share.
  void CheckFairTargets() {
    std::vector<NodeShare> demands;
    for (const Node& n : nodes_) {
      if (n.up) demands.push_back({.node = n.name, .demand = std::min(limit_, n.want)});
    }
    const std::map<std::string, uint64_t> targets = Targets(limit_, demands);
    for (const Node& n : nodes_) {
      if (!n.up) continue;
      if (n.leader.empty()) {
        if (n.usage > StaticShare(limit_, members_.size())) Fail(n.name + " above static share");
        continue;
      }
      const uint64_t target = targets.at(n.name);
      if (n.held != target || n.usage != target) {
        Fail("after the quiet period " + n.name + " holds " + std::to_string(n.held) + " uses " +
             std::to_string(n.usage) + ", fair target " + std::to_string(target) + " (limit " +
             std::to_string(limit_) + ", " + std::to_string(nodes_.size()) + " nodes)");
      }
    }
  }

  Rng rng_;
  Scenario scenario_;
  AllocateFn allocate_;
  uint64_t limit_ = 0, max_delay_ = 0, report_gap_ = 0, release_percent_ = 0, event_at_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::string> members_;
  std::vector<std::pair<uint64_t, int>> view_changes_;  // (when, node): node 0 joined or died
  std::priority_queue<Envelope, std::vector<Envelope>, std::greater<>> bus_;
  std::vector<uint64_t> last_at_;  // per (from, to): when its last message arrives
  uint64_t now_ = 0, order_ = 0;
  SimResult result_;
};

// Runs `runs` seeds; stops at the first failure.
void RunMany(Scenario scenario, uint64_t first_seed, int runs) {
  int saturated = 0;
  uint64_t grants = 0;
  for (int r = 0; r < runs; ++r) {
    const uint64_t seed = first_seed + r;
    SimResult result = Sim(seed, scenario, Allocate).Run();
    ASSERT_EQ(result.failure, "") << "seed " << seed;
    saturated += result.saturated ? 1 : 0;
    grants += result.grants_applied;
  }
  // The runs must press against the limit, or the safety check proves little.
  EXPECT_GT(saturated, runs / 2);
  EXPECT_GT(grants, static_cast<uint64_t>(runs) * 5);
}

using testutil::RunBudget;
TEST(ShareSimulation, SteadyLeader) { RunMany(Scenario::kSteady, 1000, RunBudget(1200)); }
TEST(ShareSimulation, LowerNamedNodeJoins) {
  RunMany(Scenario::kLowerJoins, 50000, RunBudget(700));
}
TEST(ShareSimulation, LeaderDies) { RunMany(Scenario::kLeaderDies, 90000, RunBudget(700)); }

// The simulation must be able to fail: a leader that sends every target at once (no headroom,
// no waiting for acknowledgements) overshoots the limit.
TEST(ShareSimulation, CatchesAnAllocatorThatIgnoresClaims) {
  const AllocateFn naive = [](const std::string&, uint64_t limit,
                              const std::vector<NodeShare>& live, AllocatorState* state) {
    std::vector<Grant> sent;
    for (const auto& [node, units] : Targets(limit, live)) {
      Grant& g = state->granted[node];
      if (g.seq != 0 && g.units == units) continue;
      g = {.node = node, .units = units, .seq = g.seq + 1};
      sent.push_back(g);
    }
    return sent;
  };
  int caught = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    if (Sim(seed, Scenario::kSteady, naive).Run().failure.find("> limit") != std::string::npos) {
      ++caught;
    }
  }
  EXPECT_GT(caught, 50);
}

}  // namespace
}  // namespace ec::replication
