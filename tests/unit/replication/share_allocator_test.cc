// The share allocator case by case: fair targets, what a leader may send when, claims, the
// leader of a view and the static share. The randomised whole-cluster check is
// share_simulation_test.cc.
#include "replication/share_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace ec::replication {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

NodeShare Share(std::string node, std::string leader, uint64_t usage, uint64_t demand,
                uint64_t held = 0, uint64_t acked = 0) {
  return {.node = std::move(node),
          .leader = std::move(leader),
          .usage = usage,
          .demand = demand,
          .held = held,
          .acked_seq = acked};
}

// Shares of idle nodes following "a" with the given demands.
std::vector<NodeShare> Demands(const std::map<std::string, uint64_t>& demands) {
  std::vector<NodeShare> out;
  for (const auto& [node, demand] : demands) out.push_back(Share(node, "a", 0, demand));
  return out;
}

struct TargetCase {
  const char* name;
  uint64_t limit;
  std::map<std::string, uint64_t> demands;
  std::map<std::string, uint64_t> want;
};

TEST(ShareAllocatorTargets, MaxMinFairByDemand) {
  const TargetCase cases[] = {
      {"all fit", 10, {{"a", 3}, {"b", 3}, {"c", 3}}, {{"a", 3}, {"b", 3}, {"c", 3}}},
      {"exactly the limit", 9, {{"a", 3}, {"b", 3}, {"c", 3}}, {{"a", 3}, {"b", 3}, {"c", 3}}},
      {"equal split, leftover to a",
       10,
       {{"a", 10}, {"b", 10}, {"c", 10}},
       {{"a", 4}, {"b", 3}, {"c", 3}}},
      {"small demand met, rest split",
       10,
       {{"a", 2}, {"b", 10}, {"c", 10}},
       {{"a", 2}, {"b", 4}, {"c", 4}}},
      {"middle demand above level",
       10,
       {{"a", 2}, {"b", 5}, {"c", 10}},
       {{"a", 2}, {"b", 4}, {"c", 4}}},
      {"leftover in name order",
       11,
       {{"a", 2}, {"b", 5}, {"c", 10}},
       {{"a", 2}, {"b", 5}, {"c", 4}}},
      {"leftover skips met nodes",
       11,
       {{"a", 10}, {"b", 1}, {"c", 10}},
       {{"a", 5}, {"b", 1}, {"c", 5}}},
      {"leftovers go to the lowest names",
       7,
       {{"w", 5}, {"x", 5}, {"y", 5}, {"z", 5}},
       {{"w", 2}, {"x", 2}, {"y", 2}, {"z", 1}}},
      {"demand 0 gets 0", 10, {{"a", 0}, {"b", 10}, {"c", 10}}, {{"a", 0}, {"b", 5}, {"c", 5}}},
      {"demand capped at the limit", 5, {{"a", 100}}, {{"a", 5}}},
      {"one node with all the mail",
       20,
       {{"a", 0}, {"b", 100}, {"c", 0}},
       {{"a", 0}, {"b", 20}, {"c", 0}}},
      {"limit 0", 0, {{"a", 5}, {"b", 5}}, {{"a", 0}, {"b", 0}}},
      {"fewer units than nodes", 2, {{"a", 1}, {"b", 9}, {"c", 9}}, {{"a", 1}, {"b", 1}, {"c", 0}}},
      {"one unit, three wanting",
       1,
       {{"c", 9}, {"b", 9}, {"a", 9}},
       {{"a", 1}, {"b", 0}, {"c", 0}}},
      {"staircase",
       100,
       {{"a", 10}, {"b", 20}, {"c", 30}, {"d", 90}},
       {{"a", 10}, {"b", 20}, {"c", 30}, {"d", 40}}},
      {"huge demands", kMax, {{"a", kMax}, {"b", 1}}, {{"a", kMax - 1}, {"b", 1}}},
      {"nobody", 10, {}, {}},
  };
  for (const TargetCase& c : cases) {
    EXPECT_EQ(Targets(c.limit, Demands(c.demands)), c.want) << c.name;
  }
}

TEST(ShareAllocatorTargets, OrderOfInputDoesNotMatter) {
  std::vector<NodeShare> shares = {Share("c", "a", 0, 7), Share("a", "a", 0, 7),
                                   Share("b", "a", 0, 1)};
  const std::map<std::string, uint64_t> want = {{"a", 5}, {"b", 1}, {"c", 4}};
  EXPECT_EQ(Targets(10, shares), want);
  std::reverse(shares.begin(), shares.end());
  EXPECT_EQ(Targets(10, shares), want);
}

TEST(ShareAllocatorClaim, LargestOfUsageHeldAndUnacknowledged) {
  AllocatorState state;
  EXPECT_EQ(Claim(Share("b", "a", 3, 9, 5), state, "a"), 5u);  // held
  EXPECT_EQ(Claim(Share("b", "a", 7, 9, 5), state, "a"), 7u);  // usage above its grant
  state.granted["b"] = {.node = "b", .units = 8, .seq = 3};
  EXPECT_EQ(Claim(Share("b", "a", 1, 9, 2, 2), state, "a"), 8u);  // seq 3 in flight
  EXPECT_EQ(Claim(Share("b", "a", 1, 9, 8, 3), state, "a"), 8u);  // applied: held
  EXPECT_EQ(Claim(Share("b", "a", 1, 9, 2, 3), state, "a"), 2u);  // applied, since lowered
  // A node following another leader has applied none of ours, whatever its acked_seq says.
  EXPECT_EQ(Claim(Share("b", "z", 1, 9, 2, 5), state, "a"), 8u);
}

TEST(ShareAllocatorClaim, AnEarlierLargerGrantInFlightCounts) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 0), Share("b", "a", 0, 10)};
  ASSERT_EQ(Allocate("a", 10, live, &state).size(), 1u);  // b: 10, seq 1
  live[1].demand = 4;
  auto sent = Allocate("a", 10, live, &state);  // b: 4, seq 2, before b applied seq 1
  ASSERT_EQ(sent, (std::vector<Grant>{{.node = "b", .units = 4, .seq = 2}}));
  EXPECT_EQ(Claim(live[1], state, "a"), 10u);  // seq 1 may still land first
  live[1] = Share("b", "a", 10, 4, 10, 1);     // it did, and b used it
  EXPECT_EQ(Claim(live[1], state, "a"), 10u);
  live[1] = Share("b", "a", 10, 4, 4, 2);  // seq 2 applied; connections still open
  EXPECT_EQ(Claim(live[1], state, "a"), 10u);
  live[1] = Share("b", "a", 4, 4, 4, 2);  // and closed
  EXPECT_EQ(Claim(live[1], state, "a"), 4u);
  // Meanwhile a's demand rises: it may have what b gave up, and not before.
  live[0] = Share("a", "a", 0, 10);
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 6, .seq = 1}}));
}

TEST(ShareAllocator, FreshClusterGetsTargetsInNameOrder) {
  AllocatorState state;
  const std::vector<NodeShare> live = {Share("c", "a", 0, 10), Share("a", "a", 0, 10),
                                       Share("b", "a", 0, 10)};
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 4, .seq = 1},
                                {.node = "b", .units = 3, .seq = 1},
                                {.node = "c", .units = 3, .seq = 1}}));
  EXPECT_EQ(state.granted.size(), 3u);
  // Nothing changed: nothing to send, even before the nodes acknowledge.
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
}

TEST(ShareAllocator, NothingSentWhenTheTargetIsWhatTheNodeHolds) {
  AllocatorState state;
  // Held from a former leader, and exactly the target.
  const std::vector<NodeShare> live = {Share("a", "a", 0, 0), Share("b", "a", 5, 5, 5, 0)};
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
}

TEST(ShareAllocator, DecreaseAtOnceIncreaseWaitsForAckAndUsage) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 5), Share("b", "a", 0, 5)};
  ASSERT_EQ(Allocate("a", 10, live, &state).size(), 2u);  // 5 and 5
  live = {Share("a", "a", 5, 5, 5, 1), Share("b", "a", 5, 5, 5, 1),
          Share("c", "a", 0, 5)};  // c: targets a 4, b 3, c 3
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 4, .seq = 2},
                                {.node = "b", .units = 3, .seq = 2}}));
  // Neither applied it yet: no headroom for c.
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
  live[1] = Share("b", "a", 5, 5, 3, 2);  // b applied 3 but its 5 connections are open
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
  live[1] = Share("b", "a", 3, 5, 3, 2);  // two closed: c may have them
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "c", .units = 2, .seq = 1}}));
  live[0] = Share("a", "a", 4, 5, 4, 2);  // a too
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "c", .units = 3, .seq = 2}}));
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
}

TEST(ShareAllocator, IncreasesWaitUntilEveryLiveNodeNamesTheLeader) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 4), Share("b", "z", 3, 3, 3, 9),
                                 Share("c", "a", 6, 0, 6, 0)};
  // c's decrease goes out at once; a's increase waits for b, which still applies z's grants.
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "c", .units = 0, .seq = 1}}));
  live[2] = Share("c", "a", 0, 0, 0, 1);
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
  live[1].leader = "";  // no leader (just joined, or no report yet): still waits
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
  live[1].leader = "a";
  live[1].acked_seq = 0;
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 4, .seq = 1}}));
}

TEST(ShareAllocator, UnacknowledgedGrantsLimitOthersIncreases) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 0), Share("b", "a", 0, 6),
                                 Share("c", "a", 0, 0)};
  ASSERT_EQ(Allocate("a", 10, live, &state).size(), 1u);  // b: 6, not applied yet
  live[1].demand = 0;                                     // b's backlog went away
  live[2].demand = 10;
  // b's decrease goes out, but b may still apply 6 first: c gets only 4 for now.
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "b", .units = 0, .seq = 2},
                                {.node = "c", .units = 4, .seq = 1}}));
  live[1] = Share("b", "a", 0, 0, 6, 1);  // it applied 6 first
  EXPECT_TRUE(Allocate("a", 10, live, &state).empty());
  live[1] = Share("b", "a", 0, 0, 0, 2);  // then 0
  live[2] = Share("c", "a", 4, 10, 4, 1);
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "c", .units = 10, .seq = 2}}));
}

TEST(ShareAllocator, IncreasesInNameOrderOutOfShortHeadroom) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 6), Share("b", "a", 0, 6),
                                 Share("c", "a", 6, 6, 6, 0)};  // c holds all 6
  EXPECT_EQ(Allocate("a", 6, live, &state),
            (std::vector<Grant>{{.node = "c", .units = 2, .seq = 1}}));
  live[2] = Share("c", "a", 3, 6, 2, 1);  // applied; 3 still open
  EXPECT_EQ(Allocate("a", 6, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 2, .seq = 1},
                                {.node = "b", .units = 1, .seq = 1}}));
  live[2] = Share("c", "a", 2, 6, 2, 1);
  EXPECT_EQ(Allocate("a", 6, live, &state),
            (std::vector<Grant>{{.node = "b", .units = 2, .seq = 2}}));
}

TEST(ShareAllocator, ForgottenNodesClaimNothing) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 10), Share("b", "a", 0, 10)};
  ASSERT_EQ(Allocate("a", 10, live, &state).size(), 2u);
  live = {Share("a", "a", 5, 10, 5, 1)};  // b left the view; its units went with it
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 10, .seq = 2}}));
  EXPECT_EQ(state.granted.count("b"), 0u);
  EXPECT_EQ(state.unacked.count("b"), 0u);
  // Back again, it gets a seq past what it says it applied from us.
  live.push_back(Share("b", "a", 0, 10, 0, 1));
  live[0] = Share("a", "a", 10, 10, 10, 2);
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 5, .seq = 3}}));
  live[0] = Share("a", "a", 5, 10, 5, 3);
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "b", .units = 5, .seq = 2}}));
}

TEST(ShareAllocator, SeqContinuesPastWhatTheNodeApplied) {
  AllocatorState state;  // a restarted leader: empty memory
  const std::vector<NodeShare> live = {Share("a", "a", 0, 0), Share("b", "a", 4, 2, 4, 7)};
  EXPECT_EQ(Allocate("a", 10, live, &state),
            (std::vector<Grant>{{.node = "b", .units = 2, .seq = 8}}));
}

TEST(ShareAllocator, LimitLoweredDecreasesEveryone) {
  AllocatorState state;
  std::vector<NodeShare> live = {Share("a", "a", 0, 10), Share("b", "a", 0, 10)};
  ASSERT_EQ(Allocate("a", 10, live, &state).size(), 2u);
  live = {Share("a", "a", 5, 10, 5, 1), Share("b", "a", 5, 10, 5, 1)};
  EXPECT_EQ(Allocate("a", 4, live, &state),
            (std::vector<Grant>{{.node = "a", .units = 2, .seq = 2},
                                {.node = "b", .units = 2, .seq = 2}}));
}

TEST(ShareAllocator, ClaimsBeyondTheLimitBlockIncreases) {
  AllocatorState state;
  // A peer reporting absurd figures (or a view after a partition): no increase, no overflow.
  const std::vector<NodeShare> live = {Share("a", "a", 0, 5), Share("b", "a", kMax, 5, kMax),
                                       Share("c", "a", kMax, 5, kMax)};
  EXPECT_EQ(Allocate("a", 9, live, &state),
            (std::vector<Grant>{{.node = "b", .units = 3, .seq = 1},
                                {.node = "c", .units = 3, .seq = 1}}));
  EXPECT_TRUE(Allocate("a", 9, live, &state).empty());
}

struct LeaderCase {
  const char* name;
  std::vector<std::string> alive;
  std::vector<std::string> members;
  std::optional<std::string> want;
};

TEST(ShareAllocatorLeader, LowestAliveMemberWithAStrictMajority) {
  const LeaderCase cases[] = {
      {"1 member alive", {"a"}, {"a"}, "a"},
      {"1 member, nobody", {}, {"a"}, std::nullopt},
      {"2 members both", {"b", "a"}, {"a", "b"}, "a"},
      {"2 members, one: no majority", {"a"}, {"a", "b"}, std::nullopt},
      {"2 members, the other one", {"b"}, {"a", "b"}, std::nullopt},
      {"3 members all", {"a", "b", "c"}, {"a", "b", "c"}, "a"},
      {"3 members, a gone", {"c", "b"}, {"a", "b", "c"}, "b"},
      {"3 members, b gone", {"a", "c"}, {"a", "b", "c"}, "a"},
      {"3 members, one left", {"c"}, {"a", "b", "c"}, std::nullopt},
      {"4 members, half", {"c", "d"}, {"a", "b", "c", "d"}, std::nullopt},
      {"4 members, three", {"b", "c", "d"}, {"a", "b", "c", "d"}, "b"},
      {"5 members, three", {"e", "c", "d"}, {"a", "b", "c", "d", "e"}, "c"},
      {"5 members, two", {"a", "b"}, {"a", "b", "c", "d", "e"}, std::nullopt},
      {"non-member alive neither counts nor leads", {"manager", "b", "c"}, {"a", "b", "c"}, "b"},
      {"non-members do not make a majority", {"aaa", "c", "zzz"}, {"a", "b", "c"}, std::nullopt},
      {"member names not alive count against", {"a", "b"}, {"a", "b", "c", "d"}, std::nullopt},
      {"duplicates count once", {"b", "b"}, {"a", "b", "c"}, std::nullopt},
      {"duplicate members count once", {"a", "b"}, {"a", "b", "c", "c"}, "a"},
      {"no members", {"a"}, {}, std::nullopt},
      {"empty names are nobody", {"", "a"}, {"", "a", "b"}, std::nullopt},
  };
  for (const LeaderCase& c : cases) EXPECT_EQ(LeaderOf(c.alive, c.members), c.want) << c.name;
}

TEST(ShareAllocatorStaticShare, FloorOfLimitByMembers) {
  EXPECT_EQ(StaticShare(10, 3), 3u);
  EXPECT_EQ(StaticShare(9, 3), 3u);
  EXPECT_EQ(StaticShare(7, 7), 1u);
  EXPECT_EQ(StaticShare(5, 10), 0u);
  EXPECT_EQ(StaticShare(0, 5), 0u);
  EXPECT_EQ(StaticShare(10, 1), 10u);
  EXPECT_EQ(StaticShare(10, 0), 0u);
  EXPECT_EQ(StaticShare(kMax, 1), kMax);
}

}  // namespace
}  // namespace ec::replication
