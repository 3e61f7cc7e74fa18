// SharedLimits with a fake clock and no event loop: units start only under the grant of every
// rule, leases give connections back, OverShare, on_capacity on a grown grant / a release / an
// aged throttle unit, grants only from the leader followed and newer, the static share without a
// leader, demand from backlog, idle objects dropped.
#include "mta/cluster/shared_limits.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/common/config/test_util.h"

namespace ec::mta::cluster {
namespace {

using outbound::LimitScope;

constexpr char kConfig[] = R"(cluster {
  Replicate "outbound_domains" { }
  Replicate "OBTM" { }
  Replicate "OBTC" { }
}
Domain "a.test" {
  cluster_max_outbound_connections = 4
  cluster_outbound_throttle_messages = "3/10"
}
Domain "b.test" {
  cluster_outbound_throttle_connections = "2/10"
}
Host "192.0.2.1" {
  cluster_max_outbound_connections = 2
}
)";

const std::string kA = "outbound_domains/a.test";
const std::string kAMessages = "obtm/a.test";
const std::string kBConnections = "obtc/b.test";
const std::string kHost = "outbound_domains/host/192.0.2.1";

class SharedLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::Diagnostics diags;
    config_ = config::testing::Parse(kConfig, &diags);
    ASSERT_TRUE(config_) << config::testing::Messages(diags).size();
    limits_ = std::make_unique<SharedLimits>(
        config_, SharedLimitsOptions{.now_us = [this] { return now_us_; }});
    limits_->SetOnCapacity([this] { ++capacity_; });
  }

  static LimitScope Scope(const std::string& domain, const std::string& host = "") {
    return {.binding = "", .binding_group = "", .domain = domain, .host = host};
  }
  replication::ObjectFigures Figures(const std::string& key) {
    auto f = limits_->FiguresOf(key);
    EXPECT_TRUE(f.has_value()) << key;
    return f.value_or(replication::ObjectFigures{});
  }
  // Follows n0 and takes `units` of `key` from it (with the next seq). A key this node has
  // not used yet is made first by a refused acquire (grants for unknown keys are ignored); the
  // on_capacity that the grant then runs is not counted.
  void Grant(const std::string& key, uint64_t units) {
    if (limits_->leader() != "n0") limits_->SetLeader("n0", 3);
    const bool made = !limits_->FiguresOf(key).has_value();
    if (made) {
      if (key == kA) {
        ASSERT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
      } else if (key == kAMessages) {
        ASSERT_FALSE(limits_->AcquireMessage(Scope("a.test")));
      } else if (key == kBConnections) {
        ASSERT_EQ(limits_->AcquireConnection(Scope("b.test")), nullptr);
      } else {
        ASSERT_EQ(limits_->AcquireHost(Scope("a.test", "192.0.2.1")), nullptr);
      }
    }
    const int capacity = capacity_;
    ASSERT_TRUE(limits_->ApplyGrant(key, units, "n0", ++seq_));
    if (made) capacity_ = capacity;
  }

  std::shared_ptr<const config::Config> config_;
  int64_t now_us_ = 1'000'000'000;
  std::unique_ptr<SharedLimits> limits_;
  int capacity_ = 0;
  uint64_t seq_ = 0;
};

TEST_F(SharedLimitsTest, NoGrantNoUnitButUnlimitedQueuesGoOn) {
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  // No cluster limit applies: always a lease, nothing counted.
  auto lease = limits_->AcquireConnection(Scope("c.test"));
  EXPECT_NE(lease, nullptr);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("c.test")));
  EXPECT_FALSE(limits_->FiguresOf("outbound_domains/c.test").has_value());
  // The refused ones are known, with a demand of one unit.
  EXPECT_EQ(Figures(kA).demand, 1u);
  EXPECT_EQ(Figures(kA).limit, 4u);
  EXPECT_EQ(Figures(kAMessages).window_ms, 10000u);
}

TEST_F(SharedLimitsTest, ConnectionsUpToTheGrantAndBackOnRelease) {
  Grant(kA, 2);
  auto l1 = limits_->AcquireConnection(Scope("a.test"));
  auto l2 = limits_->AcquireConnection(Scope("a.test"));
  ASSERT_NE(l1, nullptr);
  ASSERT_NE(l2, nullptr);
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  EXPECT_EQ(Figures(kA).usage, 2u);
  EXPECT_FALSE(limits_->OverShare(Scope("a.test")));
  l1.reset();
  EXPECT_EQ(Figures(kA).usage, 1u);
  EXPECT_EQ(capacity_, 1);  // a queue was waiting
  auto l3 = limits_->AcquireConnection(Scope("a.test"));
  EXPECT_NE(l3, nullptr);
}

TEST_F(SharedLimitsTest, SmallerGrantMeansOverShareUntilUsageFalls) {
  Grant(kA, 3);
  std::vector<std::unique_ptr<outbound::LimitLease>> leases;
  for (int i = 0; i < 3; ++i) leases.push_back(limits_->AcquireConnection(Scope("a.test")));
  for (auto& l : leases) ASSERT_NE(l, nullptr);
  Grant(kA, 1);
  EXPECT_TRUE(limits_->OverShare(Scope("a.test")));
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  leases.pop_back();
  EXPECT_TRUE(limits_->OverShare(Scope("a.test")));  // 2 > 1
  leases.pop_back();
  EXPECT_FALSE(limits_->OverShare(Scope("a.test")));  // 1 == 1
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  EXPECT_EQ(capacity_, 0);  // nothing freed past the grant
}

TEST_F(SharedLimitsTest, GrowingGrantRunsOnCapacityOnlyWhenSomeoneWaits) {
  Grant(kA, 1);
  auto l1 = limits_->AcquireConnection(Scope("a.test"));
  ASSERT_NE(l1, nullptr);
  Grant(kA, 2);
  EXPECT_EQ(capacity_, 0);
  auto l2 = limits_->AcquireConnection(Scope("a.test"));
  ASSERT_NE(l2, nullptr);
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  Grant(kA, 3);
  EXPECT_EQ(capacity_, 1);
  Grant(kA, 4);
  EXPECT_EQ(capacity_, 1);  // nobody refused since
}

TEST_F(SharedLimitsTest, GrantsOnlyFromTheLeaderFollowedAndNewer) {
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);  // the object exists now
  EXPECT_FALSE(limits_->ApplyGrant(kA, 2, "n0", 1));  // no leader followed
  limits_->SetLeader("n0", 3);
  EXPECT_FALSE(limits_->ApplyGrant(kA, 2, "n1", 1));  // not our leader
  EXPECT_FALSE(limits_->ApplyGrant("outbound_domains/unknown.test", 2, "n0", 1));
  EXPECT_TRUE(limits_->ApplyGrant(kA, 2, "n0", 5));
  EXPECT_FALSE(limits_->ApplyGrant(kA, 4, "n0", 5));  // repeated
  EXPECT_FALSE(limits_->ApplyGrant(kA, 4, "n0", 3));  // older
  EXPECT_EQ(Figures(kA).held, 2u);
  EXPECT_EQ(Figures(kA).acked_seq, 5u);
  // Another leader: none of its grants applied yet, its seqs start anew.
  limits_->SetLeader("n1", 3);
  EXPECT_EQ(Figures(kA).acked_seq, 0u);
  EXPECT_EQ(Figures(kA).held, 2u);  // kept until the new leader says otherwise
  EXPECT_TRUE(limits_->ApplyGrant(kA, 1, "n1", 1));
  EXPECT_EQ(Figures(kA).held, 1u);
  EXPECT_EQ(Figures(kA).acked_seq, 1u);
  // Back to n0 (restarted, say): its grant counts from any seq.
  limits_->SetLeader("n0", 3);
  EXPECT_TRUE(limits_->ApplyGrant(kA, 3, "n0", 1));
  EXPECT_EQ(Figures(kA).held, 3u);
}

TEST_F(SharedLimitsTest, WithoutLeaderAtMostTheStaticShare) {
  Grant(kA, 4);
  std::vector<std::unique_ptr<outbound::LimitLease>> leases;
  for (int i = 0; i < 2; ++i) leases.push_back(limits_->AcquireConnection(Scope("a.test")));
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  limits_->SetLeader(std::nullopt, 3);
  EXPECT_EQ(Figures(kA).held, 1u);  // floor(4 / 3)
  EXPECT_TRUE(limits_->OverShare(Scope("a.test")));
  EXPECT_FALSE(limits_->ApplyGrant(kA, 4, "n0", 100));
  // Never raised to it either.
  EXPECT_EQ(Figures(kAMessages).held, 0u);
}

TEST_F(SharedLimitsTest, ThrottleUnitsAgeOutOfTheWindow) {
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  Grant(kAMessages, 3);
  EXPECT_EQ(capacity_, 1);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));
  now_us_ += 4'000'000;
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  EXPECT_EQ(Figures(kAMessages).usage, 3u);
  now_us_ += 5'900'000;  // 9.9 s after the first send: still within its window
  limits_->Tick();
  EXPECT_EQ(capacity_, 1);
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  now_us_ += 100'000;  // the first send is 10 s old
  limits_->Tick();
  EXPECT_EQ(capacity_, 2);
  EXPECT_EQ(Figures(kAMessages).usage, 2u);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  // Messages do not count on connection limits.
  EXPECT_FALSE(limits_->FiguresOf(kA).has_value());
}

// A message's unit counts while its transaction runs and for one window after it ends, so a
// receiver that answers late still sees no more than the limit in any window.
TEST_F(SharedLimitsTest, MessageUnitsEnterTheWindowWhenTheSendEnds) {
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  Grant(kAMessages, 2);
  auto slow = limits_->AcquireMessage(Scope("a.test"));
  ASSERT_TRUE(slow);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));  // ends at once: in the window now
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  now_us_ += 10'000'000;  // the quick one has aged out; the slow one is still in flight
  limits_->Tick();
  EXPECT_EQ(Figures(kAMessages).usage, 1u);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));
  EXPECT_FALSE(limits_->AcquireMessage(Scope("a.test")));
  now_us_ += 1'000'000;
  slow.reset();  // answered 11 s after it began: counted from now
  EXPECT_EQ(Figures(kAMessages).usage, 2u);
  now_us_ += 9'900'000;  // the send of 10 s has left the window; the slow one has not
  limits_->Tick();
  EXPECT_EQ(Figures(kAMessages).usage, 1u);
  now_us_ += 100'000;  // the slow send is one window old now
  limits_->Tick();
  EXPECT_EQ(Figures(kAMessages).usage, 0u);
}

TEST_F(SharedLimitsTest, ConnectionThrottleUnitsOutliveTheLease) {
  Grant(kBConnections, 2);
  auto l1 = limits_->AcquireConnection(Scope("b.test"));
  ASSERT_NE(l1, nullptr);
  l1.reset();
  auto l2 = limits_->AcquireConnection(Scope("b.test"));
  ASSERT_NE(l2, nullptr);
  EXPECT_EQ(limits_->AcquireConnection(Scope("b.test")), nullptr);
  EXPECT_EQ(Figures(kBConnections).usage, 2u);
  EXPECT_FALSE(limits_->OverShare(Scope("b.test")));  // a throttle closes nothing
  now_us_ += 10'000'000;
  limits_->Tick();
  EXPECT_NE(limits_->AcquireConnection(Scope("b.test")), nullptr);
}

TEST_F(SharedLimitsTest, EveryRuleMustAdmit) {
  Grant(kA, 4);
  LimitScope host = Scope("a.test", "192.0.2.1");
  auto c1 = limits_->AcquireConnection(Scope("a.test"));
  auto c2 = limits_->AcquireConnection(Scope("a.test"));
  ASSERT_NE(c1, nullptr);
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(limits_->AcquireHost(host), nullptr);  // no grant on the address yet
  Grant(kHost, 1);
  auto h1 = limits_->AcquireHost(host);
  ASSERT_NE(h1, nullptr);
  EXPECT_EQ(limits_->AcquireHost(host), nullptr);
  EXPECT_NE(limits_->AcquireHost(Scope("a.test", "192.0.2.9")), nullptr);  // unlimited address
  EXPECT_EQ(Figures(kHost).usage, 1u);
  EXPECT_EQ(Figures(kA).usage, 2u);  // a host lease is not a queue connection
  Grant(kHost, 0);
  EXPECT_TRUE(limits_->OverShare(host));
  EXPECT_FALSE(limits_->OverShare(Scope("a.test")));
}

TEST_F(SharedLimitsTest, DemandIsUsagePlusBacklogCappedAtTheLimit) {
  limits_->SetBacklog(Scope("a.test"), 2);
  EXPECT_EQ(Figures(kA).demand, 2u);
  EXPECT_EQ(Figures(kAMessages).demand, 2u);
  limits_->SetBacklog(Scope("a.test"), 50);
  EXPECT_EQ(Figures(kA).demand, 4u);
  EXPECT_EQ(Figures(kAMessages).demand, 3u);
  Grant(kA, 4);
  auto l1 = limits_->AcquireConnection(Scope("a.test"));
  limits_->SetBacklog(Scope("a.test"), 1);
  EXPECT_EQ(Figures(kA).demand, 2u);
  // A queue that tried an address counts its backlog on the address too.
  (void)limits_->AcquireHost(Scope("a.test", "192.0.2.1"));
  limits_->SetBacklog(Scope("a.test"), 2);
  EXPECT_EQ(Figures(kHost).demand, 2u);
  limits_->SetBacklog(Scope("a.test"), 0);
  EXPECT_EQ(Figures(kA).demand, 1u);
  EXPECT_EQ(Figures(kHost).demand, 0u);  // its refusal wanted nothing the queue still has
  // A refusal with no backlog reported asks for one unit more, for a while.
  EXPECT_EQ(limits_->AcquireHost(Scope("a.test", "192.0.2.1")), nullptr);
  EXPECT_EQ(Figures(kHost).demand, 1u);
  now_us_ += 2'100'000;
  EXPECT_EQ(Figures(kHost).demand, 0u);
}

TEST_F(SharedLimitsTest, ChangesAreReportedOnceAndIdleObjectsGo) {
  limits_->SetBacklog(Scope("a.test"), 2);
  std::vector<std::string> changed = limits_->TakeChanged();
  EXPECT_EQ(changed, (std::vector<std::string>{kAMessages, kA}));
  EXPECT_TRUE(limits_->TakeChanged().empty());
  limits_->SetBacklog(Scope("a.test"), 0);
  EXPECT_EQ(limits_->TakeChanged(), (std::vector<std::string>{kAMessages, kA}));
  EXPECT_EQ(limits_->object_count(), 2u);  // reported at zero once more
  EXPECT_TRUE(limits_->TakeChanged().empty());
  EXPECT_EQ(limits_->object_count(), 0u);
  int changes = 0;
  limits_->SetOnChange([&changes] { ++changes; });
  limits_->SetBacklog(Scope("a.test"), 1);
  EXPECT_GT(changes, 0);
  EXPECT_EQ(limits_->TakeChanged().size(), 2u);
  // A demand that lapses with time alone shows in the periodic look at every object.
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  limits_->SetBacklog(Scope("a.test"), 0);
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);
  EXPECT_EQ(limits_->TakeChanged(), (std::vector<std::string>{kAMessages}));  // kA: still 1
  EXPECT_EQ(Figures(kA).demand, 1u);
  now_us_ += 2'100'000;
  EXPECT_TRUE(limits_->TakeChanged().empty());
  EXPECT_EQ(limits_->TakeChanged(/*all=*/true), (std::vector<std::string>{kA}));
}

TEST_F(SharedLimitsTest, LeasesMayOutliveTheLimits) {
  Grant(kA, 1);
  auto lease = limits_->AcquireConnection(Scope("a.test"));
  ASSERT_NE(lease, nullptr);
  limits_.reset();
  lease.reset();  // releases nothing, no crash
}

TEST_F(SharedLimitsTest, ReloadKeepsUnitsAndGrants) {
  Grant(kA, 2);
  auto l1 = limits_->AcquireConnection(Scope("a.test"));
  config::Diagnostics diags;
  auto next = config::testing::Parse(
      "cluster { Replicate \"outbound_domains\" { } }\n"
      "Domain \"a.test\" { cluster_max_outbound_connections = 1 }\n",
      &diags);
  ASSERT_TRUE(next);
  limits_->Apply(next);
  EXPECT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);  // limit 1 caps grant 2
  EXPECT_EQ(Figures(kA).limit, 1u);
  EXPECT_EQ(Figures(kA).usage, 1u);
  EXPECT_TRUE(limits_->AcquireMessage(Scope("a.test")));  // no message throttle any more
}

// Whatever the order of acquires, releases and grants, usage never passes the grant at the
// moment a unit starts.
TEST_F(SharedLimitsTest, UnitsNeverPassTheGrant) {
  std::mt19937 rng(7);
  std::vector<std::unique_ptr<outbound::LimitLease>> leases;
  limits_->SetLeader("n0", 3);
  ASSERT_EQ(limits_->AcquireConnection(Scope("a.test")), nullptr);  // makes the object
  uint64_t held = 0;
  for (int step = 0; step < 5000; ++step) {
    switch (rng() % 4) {
      case 0:
      case 1: {
        auto l = limits_->AcquireConnection(Scope("a.test"));
        if (l) {
          leases.push_back(std::move(l));
          ASSERT_LE(leases.size(), held);
        } else {
          ASSERT_GE(leases.size(), std::min<uint64_t>(held, 4));
        }
        break;
      }
      case 2:
        if (!leases.empty()) leases.erase(leases.begin() + rng() % leases.size());
        break;
      case 3:
        held = rng() % 6;
        (void)limits_->ApplyGrant(kA, held, "n0", ++seq_);
        held = std::min<uint64_t>(held, 4);  // the configured limit caps any grant
        break;
    }
    ASSERT_EQ(Figures(kA).usage, leases.size());
    ASSERT_EQ(limits_->OverShare(Scope("a.test")), leases.size() > held);
  }
}

}  // namespace
}  // namespace ec::mta::cluster
