// Shared named throttles: Shared_Throttle read from the config (any case, limit 0 when unset);
// the --check-config problems (no Replicate shared_named_throttles in a clustered config, a
// shared_throttle naming no Shared_Throttle); SharedLimits::TakeTransaction alone (the whole
// limit over any window, refused without taking, back after the window), in a cluster (only
// under the grant, one unit asked ahead, the whole limit asked after a refusal, the static share
// without a leader), on reload; and three nodes sharing one throttle through the allocator.
#include <gmock/gmock.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mta/cluster/named_throttles.h"
#include "mta/cluster/shared_limits.h"
#include "replication/share_allocator.h"
#include "tests/unit/mta/cluster/limits_test_util.h"

namespace ec::mta::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kSharedThrottleBus[] =
    "msgc_server { peers = [ n0 = \"127.0.0.2\" n1 = \"127.0.0.3\" ] }\n";
const std::string kPartnersKey = "shared_named_throttles/partners";

TEST(ReadSharedThrottlesTest, RulesByLowerCasedName) {
  auto rules = ReadSharedThrottles(*ParseValid(R"(Shared_Throttle "Partners" { messages = "600/60" }
Shared_Throttle "flat" { messages = 7 }
Shared_Throttle "off" { messages = 0 }
Shared_Throttle "unset" { }
)"));
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules.at("partners"), (LimitRule{kPartnersKey, 600, 60000}));
  EXPECT_EQ(rules.at("flat"), (LimitRule{"shared_named_throttles/flat", 7, 1000}));
  EXPECT_EQ(rules.at("off").limit, 0u);
  EXPECT_EQ(rules.at("unset").limit, 0u);
}

TEST(CheckSharedThrottlesTest, ClusteredNeedsItsReplicateWithTheLine) {
  EXPECT_THAT(ValidationProblems(std::string(kSharedThrottleBus) + R"(Shared_Throttle "partners" {
  messages = "600/60"
}
Shared_Throttle "off" { messages = 0 }
)"),
              ElementsAre("t.conf:3: Shared_Throttle \"partners\" needs Replicate "
                          "\"shared_named_throttles\" in cluster { } (this node has msgc_server "
                          "peers)"));
  // Named as the type, or typed so, in any case.
  const std::string throttle = "Shared_Throttle \"partners\" { messages = \"600/60\" }\n";
  EXPECT_THAT(ValidationProblems(kSharedThrottleBus + throttle +
                                 "cluster { Replicate \"Shared_Named_Throttles\" { } }\n"),
              IsEmpty());
  EXPECT_THAT(
      ValidationProblems(kSharedThrottleBus + throttle +
                         "cluster { Replicate \"snt\" { type = \"shared_named_throttles\" } }\n"),
      IsEmpty());
}

TEST(CheckSharedThrottlesTest, ASingleNodeCountsAlone) {
  EXPECT_THAT(ValidationProblems(R"(Shared_Throttle "partners" { messages = "600/60" }
ESMTP_Listener { shared_throttle = "partners" }
)"),
              IsEmpty());
}

TEST(CheckSharedThrottlesTest, AnUndefinedNameIsRefusedWherever) {
  EXPECT_THAT(ValidationProblems(R"(Shared_Throttle "Partners" { messages = "5/4" }
ESMTP_Listener {
  shared_throttle = "partners"
  Listen "127.0.0.1:2525" {
    Peer "127.0.0.0/8" { shared_throttle = "nobody" }
  }
}
Pathway "p" { shared_throttle = "PARTNERS" }
Pathway_Group "g" { shared_throttle = "typo" }
)"),
              ElementsAre("t.conf:5: shared_throttle \"nobody\" names no Shared_Throttle (define "
                          "Shared_Throttle \"nobody\" { messages = \"N/secs\" })",
                          "t.conf:9: shared_throttle \"typo\" names no Shared_Throttle (define "
                          "Shared_Throttle \"typo\" { messages = \"N/secs\" })"));
}

class NamedThrottleTest : public ::testing::Test {
 protected:
  void Make(const std::string& text) {
    limits_ = std::make_unique<SharedLimits>(
        ParseValid(text), SharedLimitsOptions{.now_us = [this] { return now_us_; }});
  }
  int TakeMany(int n) {
    int taken = 0;
    for (int i = 0; i < n; ++i) taken += limits_->TakeTransaction("partners") ? 1 : 0;
    return taken;
  }
  replication::ObjectFigures Figures() {
    return limits_->FiguresOf(kPartnersKey).value_or(replication::ObjectFigures{});
  }

  int64_t now_us_ = 1'000'000'000;
  std::unique_ptr<SharedLimits> limits_;
};

constexpr char kFiveInFour[] = "Shared_Throttle \"Partners\" { messages = \"5/4\" }\n";

TEST_F(NamedThrottleTest, AloneTheWholeLimitOverAnyWindow) {
  Make(kFiveInFour);
  limits_->SetLeader("self", 1);
  EXPECT_EQ(TakeMany(3), 3);
  now_us_ += 2'000'000;
  EXPECT_EQ(TakeMany(5), 2);  // 5 in the window; the refusals took nothing
  EXPECT_EQ(Figures().usage, 5u);
  now_us_ += 1'999'999;       // the first three are not yet 4 s old
  EXPECT_FALSE(limits_->TakeTransaction("PARTNERS"));
  now_us_ += 1;               // now they are: three more, not five
  EXPECT_EQ(TakeMany(5), 3);
  now_us_ += 2'000'000;       // the two of t=2 s left
  EXPECT_EQ(TakeMany(5), 2);
}

TEST_F(NamedThrottleTest, UnknownOrUnlimitedNamesAdmitEverything) {
  Make(std::string(kFiveInFour) + "Shared_Throttle \"off\" { messages = 0 }\n");
  limits_->SetLeader("self", 1);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(limits_->TakeTransaction("off"));
    EXPECT_TRUE(limits_->TakeTransaction("nobody"));
  }
  EXPECT_FALSE(limits_->FiguresOf("shared_named_throttles/off").has_value());
  EXPECT_EQ(Figures().usage, 0u);
}

TEST_F(NamedThrottleTest, InAClusterOnlyUnderTheGrant) {
  Make(kFiveInFour);
  limits_->SetLeader("n0", 3);
  // Known before any transaction, asking for one unit ahead.
  EXPECT_EQ(Figures().limit, 5u);
  EXPECT_EQ(Figures().window_ms, 4000u);
  EXPECT_EQ(Figures().demand, 1u);
  EXPECT_FALSE(limits_->TakeTransaction("partners"));  // nothing granted yet
  EXPECT_EQ(Figures().demand, 5u);                     // refused: asks for the whole limit
  ASSERT_TRUE(limits_->ApplyGrant(kPartnersKey, 2, "n0", 1));
  EXPECT_EQ(TakeMany(4), 2);
  EXPECT_EQ(Figures().usage, 2u);
  // The last refusal asks for a window, then demand falls back to one past the usage.
  now_us_ += 3'999'999;
  EXPECT_EQ(Figures().usage, 2u);
  EXPECT_EQ(Figures().demand, 5u);
  now_us_ += 1;
  EXPECT_EQ(Figures().usage, 0u);
  EXPECT_EQ(Figures().demand, 1u);
  EXPECT_EQ(TakeMany(4), 2);
  // A grant from another node is not applied.
  EXPECT_FALSE(limits_->ApplyGrant(kPartnersKey, 5, "n1", 2));
  EXPECT_FALSE(limits_->TakeTransaction("partners"));
}

TEST_F(NamedThrottleTest, WithoutALeaderAtMostTheStaticShare) {
  Make(kFiveInFour);
  limits_->SetLeader("n0", 2);
  ASSERT_TRUE(limits_->ApplyGrant(kPartnersKey, 5, "n0", 1));
  limits_->SetLeader(std::nullopt, 2);  // lost the quorum
  EXPECT_EQ(TakeMany(5), 2);            // floor(5 / 2)
}

TEST_F(NamedThrottleTest, ReloadAppliesTheNewLimitAndDropsARemovedThrottle) {
  Make(kFiveInFour);
  limits_->SetLeader("self", 1);
  EXPECT_EQ(TakeMany(3), 3);
  limits_->Apply(ParseValid("Shared_Throttle \"partners\" { messages = \"4/4\" }\n"));
  EXPECT_EQ(TakeMany(3), 1);  // the units taken still count
  EXPECT_EQ(Figures().limit, 4u);
  limits_->Apply(ParseValid("ESMTP_Listener { }\n"));
  EXPECT_EQ(TakeMany(3), 3);  // no throttle any more
  EXPECT_EQ(Figures().demand, 4u);  // what it still holds, nothing ahead
  now_us_ += 4'000'000;
  (void)limits_->TakeChanged(true);  // reported at zero ...
  (void)limits_->TakeChanged(true);  // ... then dropped
  EXPECT_FALSE(limits_->FiguresOf(kPartnersKey).has_value());
}

// Three nodes offered mail at once: the leader (n0) shares the limit through the allocator;
// every node's units stay within its grant, so the cluster's stay within the limit.
TEST(NamedThrottleClusterTest, ThreeRefusingNodesShareTheLimitEvenly) {
  int64_t now_us = 1'000'000'000;
  const std::vector<std::string> nodes = {"n0", "n1", "n2"};
  std::map<std::string, std::unique_ptr<SharedLimits>> limits;
  for (const std::string& n : nodes) {
    limits[n] = std::make_unique<SharedLimits>(
        ParseValid("Shared_Throttle \"partners\" { messages = \"30/20\" }\n"),
        SharedLimitsOptions{.now_us = [&now_us] { return now_us; }});
    limits[n]->SetLeader("n0", 3);
  }
  replication::AllocatorState state;
  auto round = [&] {
    std::vector<replication::NodeShare> live;
    for (const std::string& n : nodes) {
      replication::ObjectFigures f = limits[n]->FiguresOf(kPartnersKey).value();
      live.push_back({n, "n0", f.usage, f.demand, f.held, f.acked_seq});
    }
    for (const replication::Grant& g : replication::Allocate("n0", 30, live, &state)) {
      limits[g.node]->ApplyGrant(kPartnersKey, g.units, "n0", g.seq);
    }
  };
  std::map<std::string, int> accepted;
  for (int step = 0; step < 40; ++step) {  // 2 s of offers every 50 ms, a round after each
    for (const std::string& n : nodes) accepted[n] += limits[n]->TakeTransaction("partners");
    round();
    uint64_t usage = 0;
    for (const std::string& n : nodes) usage += limits[n]->FiguresOf(kPartnersKey)->usage;
    ASSERT_LE(usage, 30u) << "step " << step;
    now_us += 50'000;
  }
  EXPECT_THAT(accepted, ElementsAre(std::pair<const std::string, int>("n0", 10),
                                    std::pair<const std::string, int>("n1", 10),
                                    std::pair<const std::string, int>("n2", 10)));
}

}  // namespace
}  // namespace ec::mta::cluster
