// The DuraVIP election (duravip/election.h): every rule on hand-built views, then properties over
// thousands of random views (seeded, so a failure is reproducible from the iteration printed).
#include "duravip/election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <random>
#include <tuple>

#include "tests/unit/testing/run_budget.h"

namespace ec::duravip {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();

VipConfig Listen(std::string address, std::string preference = "") {
  return {std::move(address), "listen", "", std::move(preference)};
}
VipConfig Binding(std::string address, std::string name, std::string preference = "") {
  return {std::move(address), "binding", std::move(name), std::move(preference)};
}
NodeReport Node(std::string name, std::vector<VipConfig> configured,
                std::set<std::string> held = {}) {
  return {std::move(name), std::move(configured), std::move(held)};
}

// The decision for `address`; fails the test (and returns an empty one) when there is none.
VipDecision Find(const std::vector<VipDecision>& decisions, const std::string& address) {
  for (const VipDecision& d : decisions) {
    if (d.address == address) return d;
  }
  ADD_FAILURE() << "no decision for " << address;
  return {};
}

std::vector<std::string> Addresses(const std::vector<VipDecision>& decisions) {
  std::vector<std::string> out;
  for (const VipDecision& d : decisions) out.push_back(d.address);
  return out;
}

// `nodes` best first by rendezvous for `address` (RendezvousWeight itself is pinned below).
std::vector<std::string> Ranked(const std::string& address, std::vector<std::string> nodes) {
  std::sort(nodes.begin(), nodes.end(), [&](const std::string& x, const std::string& y) {
    return std::make_tuple(~RendezvousWeight(x, address), x) <
           std::make_tuple(~RendezvousWeight(y, address), y);
  });
  return nodes;
}

// --- RendezvousWeight -----------------------------------------------------------------------

TEST(DuravipRendezvousTest, WeightIsPinned) {
  // Computed independently (Python) from the formula in election.h. If this fails, the hash
  // changed: nodes of different versions would disagree on owners during an upgrade.
  struct Case {
    const char* node;
    const char* address;
    uint64_t weight;
  };
  const Case cases[] = {
      {"", "", 0x25fc6dd36ce04b20ull},
      {"node1", "198.18.0.100", 0xe22f5c3f4a937f79ull},
      {"node2", "198.18.0.100", 0xc271fef801365319ull},
      {"node3", "198.18.0.100", 0xcfbca7716b7b03bcull},
      {"mx-a", "2001:db8::1", 0x633b5a9b2b5995cbull},
      {"mx-b", "2001:db8::1", 0xa95be69eece01c59ull},
      {"mx-c", "2001:db8::1", 0x6fdff974973ba815ull},
      {"a", "b", 0xeb38c838c62d597eull},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(RendezvousWeight(c.node, c.address), c.weight) << c.node << " " << c.address;
  }
}

TEST(DuravipRendezvousTest, NodeAndAddressAreSeparated) {
  // The 0 byte between them keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_EQ(RendezvousWeight("ab", "c"), 0x9291f5e7171dc35aull);
  EXPECT_EQ(RendezvousWeight("a", "bc"), 0x82a144826e72d59eull);
}

TEST(DuravipRendezvousTest, RankingOfThePinnedCases) {
  EXPECT_THAT(Ranked("198.18.0.100", {"node2", "node3", "node1"}),
              ElementsAre("node1", "node3", "node2"));
  EXPECT_THAT(Ranked("2001:db8::1", {"mx-a", "mx-b", "mx-c"}), ElementsAre("mx-b", "mx-c", "mx-a"));
}

// --- Elect: basics --------------------------------------------------------------------------

constexpr const char* kVip = "198.18.0.100";  // ranked node1 > node3 > node2 (pinned above)

TEST(DuravipElectionTest, EmptyInputGivesNoDecisions) {
  EXPECT_THAT(Elect({}), IsEmpty());
  ElectionInput input;
  input.alive = {Node("node1", {}, {kVip}), Node("node2", {})};  // held but configured nowhere
  input.overrides = {{kVip, "node1"}};
  input.balance_budget = 5;
  EXPECT_THAT(Elect(input), IsEmpty());
}

TEST(DuravipElectionTest, SingleCandidateOwns) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)})};
  VipDecision want;
  want.address = kVip;
  want.owner = "node1";
  want.candidates = {"node1"};
  EXPECT_THAT(Elect(input), ElementsAre(want));
}

TEST(DuravipElectionTest, RendezvousWinnerOwnsWhenNobodyHoldsIt) {
  ElectionInput input;
  input.alive = {Node("node2", {Listen(kVip)}), Node("node3", {Listen(kVip)}),
                 Node("node1", {Listen(kVip)})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node1");
  EXPECT_THAT(d.candidates, ElementsAre("node1", "node2", "node3"));
  EXPECT_THAT(d.holders, IsEmpty());
  EXPECT_FALSE(d.rebalanced);
  // Without node1 the next in rank takes it.
  input.alive.pop_back();
  EXPECT_EQ(Find(Elect(input), kVip).owner, "node3");
}

TEST(DuravipElectionTest, CandidatesAndHoldersAreSortedAndDeduplicated) {
  ElectionInput input;
  input.alive = {
      Node("node3", {Listen(kVip), Listen(kVip), Binding(kVip, "b")}, {kVip}),
      Node("node4", {Listen("198.18.0.7")}, {kVip}),  // holds it without configuring it
      Node("node1", {Binding(kVip, "b"), Binding(kVip, "b")}, {kVip}),
  };
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_THAT(d.candidates, ElementsAre("node1", "node3"));
  EXPECT_THAT(d.holders, ElementsAre("node1", "node3", "node4"));
}

TEST(DuravipElectionTest, OutputIsSortedByAddressTextIncludingIpv6) {
  ElectionInput input;
  input.alive = {Node("mx-a", {Listen("2001:db8::1"), Listen("198.18.0.9"), Listen("fd00::25")}),
                 Node("mx-b", {Listen("2001:db8::1"), Binding("198.18.0.100", "out")}),
                 Node("mx-c", {Listen("2001:db8::1"), Listen("198.18.0.10")})};
  const auto decisions = Elect(input);
  EXPECT_THAT(Addresses(decisions),
              ElementsAre("198.18.0.10", "198.18.0.100", "198.18.0.9", "2001:db8::1", "fd00::25"));
  VipDecision v6 = Find(decisions, "2001:db8::1");
  EXPECT_EQ(v6.owner, "mx-b");  // pinned ranking mx-b > mx-c > mx-a
  EXPECT_THAT(v6.candidates, ElementsAre("mx-a", "mx-b", "mx-c"));
  EXPECT_EQ(Find(decisions, "fd00::25").owner, "mx-a");
}

TEST(DuravipElectionTest, ReportsOfOneNodeAreMergedAndEmptyNodeNamesIgnored) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("", {Listen(kVip), Listen("198.18.0.1")}),
                 Node("node1", {}, {kVip})};
  const auto decisions = Elect(input);
  ASSERT_THAT(Addresses(decisions), ElementsAre(kVip));  // "" configured 198.18.0.1: ignored
  EXPECT_THAT(decisions[0].candidates, ElementsAre("node1"));
  EXPECT_THAT(decisions[0].holders, ElementsAre("node1"));
  EXPECT_EQ(decisions[0].owner, "node1");
  EXPECT_FALSE(decisions[0].unsafe);  // the ignored report does not count either
}

TEST(DuravipElectionTest, InputOrderDoesNotMatter) {
  ElectionInput a;
  a.alive = {Node("node1", {Listen(kVip, "node3"), Listen("198.18.0.1")}, {"198.18.0.1"}),
             Node("node2", {Binding(kVip, "b"), Listen(kVip)}, {kVip}),
             Node("node3", {Listen("198.18.0.1"), Listen(kVip)})};
  ElectionInput b;
  b.alive = {Node("node3", {Listen(kVip), Listen("198.18.0.1"), Listen(kVip)}),
             Node("node2", {Listen(kVip), Binding(kVip, "b")}, {kVip}),
             Node("node1", {Listen("198.18.0.1"), Listen(kVip, "node3")}, {"198.18.0.1"})};
  EXPECT_EQ(Elect(a), Elect(b));
}

// --- broken ---------------------------------------------------------------------------------

TEST(DuravipElectionTest, OneAddressUnderTwoBindingNamesIsBroken) {
  ElectionInput input;
  input.alive = {Node("node1", {Binding(kVip, "out-a", "node1")}, {kVip}),
                 Node("node2", {Binding(kVip, "out-b", "node1")}), Node("node3", {Listen(kVip)})};
  input.overrides = {{kVip, "node1"}};
  input.balance_budget = 3;
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_TRUE(d.broken);
  EXPECT_EQ(d.owner, "");  // not the holder, the override nor the preference
  EXPECT_THAT(d.candidates, ElementsAre("node1", "node2", "node3"));
  EXPECT_THAT(d.holders, ElementsAre("node1"));
  EXPECT_FALSE(d.rebalanced);
}

TEST(DuravipElectionTest, TwoBindingNamesOnOneNodeAreBrokenToo) {
  ElectionInput input;
  input.alive = {Node("node1", {Binding(kVip, "out-a"), Binding(kVip, "out-b")})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_TRUE(d.broken);
  EXPECT_EQ(d.owner, "");
}

TEST(DuravipElectionTest, ListenAndBindingSharingAnAddressAreNotBroken) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip), Binding(kVip, "out")}),
                 Node("node2", {Binding(kVip, "out"), Listen(kVip)})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_FALSE(d.broken);
  EXPECT_FALSE(d.unsafe);
  EXPECT_EQ(d.owner, "node1");
}

TEST(DuravipElectionTest, BrokenIsPerAddress) {
  ElectionInput input;
  input.alive = {Node("node1", {Binding(kVip, "a"), Binding("198.18.0.1", "c")}),
                 Node("node2", {Binding(kVip, "b"), Binding("198.18.0.1", "c")})};
  const auto decisions = Elect(input);
  EXPECT_TRUE(Find(decisions, kVip).broken);
  EXPECT_FALSE(Find(decisions, "198.18.0.1").broken);
  EXPECT_NE(Find(decisions, "198.18.0.1").owner, "");
}

// --- preference -----------------------------------------------------------------------------

TEST(DuravipElectionTest, PreferredNodeAliveOwnsWithoutSpendingBudget) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip, "node2")}), Node("node2", {Listen(kVip, "node2")}),
                 Node("node3", {Listen(kVip, "node2")}, {kVip})};
  input.balance_budget = 0;  // the move away from holder node3 happens anyway
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.preference, "node2");
  EXPECT_FALSE(d.conflict);
  EXPECT_EQ(d.owner, "node2");  // not the holder node3, not the rendezvous winner node1
  EXPECT_FALSE(d.rebalanced);
}

TEST(DuravipElectionTest, OnePreferenceAmongEmptyOnesIsAgreed) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("node2", {Binding(kVip, "b")}),
                 Node("node3", {Listen(kVip), Binding(kVip, "b", "node2")})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.preference, "node2");
  EXPECT_FALSE(d.conflict);
  EXPECT_EQ(d.owner, "node2");
}

TEST(DuravipElectionTest, PreferredNodeDeadFallsBackToHolderThenRendezvous) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip, "node9")}), Node("node2", {Listen(kVip, "node9")}),
                 Node("node3", {Listen(kVip, "node9")}, {kVip})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.preference, "node9");  // shown, though not usable now
  EXPECT_EQ(d.owner, "node3");       // holder kept (budget 0)
  // An unusable preference does not shelter the holder from rebalancing.
  input.balance_budget = 1;
  d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node1");
  EXPECT_TRUE(d.rebalanced);
  // Nobody holds it: the rendezvous winner.
  input.alive[2].held.clear();
  input.balance_budget = 0;
  d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node1");
  EXPECT_FALSE(d.rebalanced);
}

TEST(DuravipElectionTest, PreferredNodeThatDoesNotConfigureTheAddressIsNotUsable) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip, "node4")}), Node("node2", {Listen(kVip)}),
                 Node("node4", {Listen("198.18.0.1")})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.preference, "node4");
  EXPECT_EQ(d.owner, "node1");
  EXPECT_TRUE(d.unsafe);  // node4 configures a VIP but not this one
}

TEST(DuravipElectionTest, ConflictingPreferencesMeanPlainElection) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip, "node2")}), Node("node2", {Listen(kVip, "node3")}),
                 Node("node3", {Listen(kVip)})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.preference, "");
  EXPECT_EQ(d.owner, "node1");  // rendezvous, neither node2 nor node3
  // Plain election keeps a holder too.
  input.alive[1].held = {kVip};
  EXPECT_EQ(Find(Elect(input), kVip).owner, "node2");
}

TEST(DuravipElectionTest, PreferencesConflictEvenWhenOneNamesADeadNode) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}),
                 Node("node2", {Listen(kVip, "node2"), Binding(kVip, "b", "node9")})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_TRUE(d.conflict);
  EXPECT_EQ(d.preference, "");
  EXPECT_EQ(d.owner, Ranked(kVip, {"node1", "node2"})[0]);
}

// --- unsafe ---------------------------------------------------------------------------------

TEST(DuravipElectionTest, ConfiguredAlikeEverywhereIsSafe) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip), Binding(kVip, "b")}),
                 Node("node2", {Binding(kVip, "b"), Listen(kVip)}),
                 Node("node3", {}, {kVip})};  // configures no VIP at all: does not count
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_FALSE(d.unsafe);
}

TEST(DuravipElectionTest, AddressMissingOnANodeWithOtherVipsIsUnsafe) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("node2", {Listen(kVip)}),
                 Node("node3", {Listen("198.18.0.1")})};
  const auto decisions = Elect(input);
  VipDecision d = Find(decisions, kVip);
  EXPECT_TRUE(d.unsafe);
  EXPECT_EQ(d.owner, Ranked(kVip, {"node1", "node2"})[0]);  // informational only
  EXPECT_TRUE(Find(decisions, "198.18.0.1").unsafe);
  EXPECT_EQ(Find(decisions, "198.18.0.1").owner, "node3");
}

TEST(DuravipElectionTest, DifferentKindsOnCandidatesAreUnsafe) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip), Binding(kVip, "b")}),
                 Node("node2", {Binding(kVip, "b")}, {kVip})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_TRUE(d.unsafe);
  EXPECT_FALSE(d.broken);
  EXPECT_EQ(d.owner, "node2");  // the holder, as if it were safe
}

// --- overrides ------------------------------------------------------------------------------

TEST(DuravipElectionTest, OverrideNamingACandidateWinsOverEverythingAndIsFree) {
  ElectionInput input;
  const std::string next = "198.18.0.101";  // after kVip
  input.alive = {
      Node("node1", {Listen(kVip, "node3"), Listen(next)}),
      Node("node2", {Listen(kVip, "node3"), Listen(next)}),
      Node("node3", {Listen(kVip, "node3"), Listen(next)}, {kVip}),
  };
  const std::string next_loser = Ranked(next, {"node1", "node2", "node3"})[2];
  for (NodeReport& r : input.alive) {
    if (r.node == next_loser) r.held.insert(next);
  }
  input.overrides = {{kVip, "node2"}};
  input.balance_budget = 1;
  const auto decisions = Elect(input);
  VipDecision d = Find(decisions, kVip);
  EXPECT_EQ(d.owner, "node2");  // not holder/preferred node3, not rendezvous node1
  EXPECT_FALSE(d.rebalanced);
  // The budget was still there for the next address.
  VipDecision n = Find(decisions, next);
  EXPECT_TRUE(n.rebalanced);
  EXPECT_EQ(n.owner, Ranked(next, {"node1", "node2", "node3"})[0]);
}

TEST(DuravipElectionTest, OverrideNamingANonCandidateIsIgnored) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("node2", {Listen(kVip)}, {kVip}),
                 Node("node4", {}, {})};
  for (const char* target : {"node9", "node4", ""}) {  // dead; alive but not configuring; empty
    input.overrides = {{kVip, target}};
    VipDecision d = Find(Elect(input), kVip);
    EXPECT_EQ(d.owner, "node2") << target;  // the holder stays
    EXPECT_FALSE(d.rebalanced);
  }
  // An override for an address nobody configures creates nothing.
  input.overrides = {{"198.18.0.1", "node1"}};
  EXPECT_THAT(Addresses(Elect(input)), ElementsAre(kVip));
}

// --- holders --------------------------------------------------------------------------------

TEST(DuravipElectionTest, LiveHolderIsKeptWhenThereIsNoBudget) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("node2", {Listen(kVip)}, {kVip}),
                 Node("node3", {Listen(kVip)})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node2");  // rendezvous would say node1
  EXPECT_FALSE(d.rebalanced);
}

TEST(DuravipElectionTest, OfTwoHoldersTheRendezvousBestIsKept) {
  ElectionInput input;
  input.alive = {Node("node1", {Listen(kVip)}), Node("node2", {Listen(kVip)}, {kVip}),
                 Node("node3", {Listen(kVip)}, {kVip})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_THAT(d.holders, ElementsAre("node2", "node3"));
  EXPECT_EQ(d.owner, "node3");  // node3 outranks node2
  EXPECT_FALSE(d.rebalanced);
  input.balance_budget = 1;
  d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node1");
  EXPECT_TRUE(d.rebalanced);
  // When the winner is one of the holders it is kept, and no budget is spent.
  input.alive[0].held = {kVip};
  d = Find(Elect(input), kVip);
  EXPECT_EQ(d.owner, "node1");
  EXPECT_FALSE(d.rebalanced);
}

TEST(DuravipElectionTest, HolderThatDoesNotConfigureTheAddressIsNotKept) {
  ElectionInput input;
  input.alive = {Node("node2", {Listen(kVip)}), Node("node3", {Listen(kVip)}),
                 Node("node4", {}, {kVip})};
  VipDecision d = Find(Elect(input), kVip);
  EXPECT_THAT(d.holders, ElementsAre("node4"));
  EXPECT_EQ(d.owner, "node3");
  EXPECT_FALSE(d.rebalanced);  // a failover, with budget 0
}

// --- budget ---------------------------------------------------------------------------------

// Four addresses, each held by the node that loses the rendezvous between a and b; listed out
// of order so that the ascending text order has to come from Elect.
ElectionInput AllHeldByLosers() {
  const std::vector<std::string> addresses = {"2001:db8::1", "198.18.0.9", "198.18.0.100",
                                              "198.18.0.10"};
  ElectionInput input;
  input.alive = {Node("b", {}), Node("a", {})};
  for (const std::string& address : addresses) {
    const std::string loser = Ranked(address, {"a", "b"})[1];
    for (NodeReport& r : input.alive) {
      r.configured.push_back(Listen(address));
      if (r.node == loser) r.held.insert(address);
    }
  }
  return input;
}

TEST(DuravipElectionTest, BudgetMovesHeldAddressesInAscendingAddressOrder) {
  const std::vector<std::string> sorted = {"198.18.0.10", "198.18.0.100", "198.18.0.9",
                                           "2001:db8::1"};
  for (size_t budget : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{10}}) {
    ElectionInput input = AllHeldByLosers();
    input.balance_budget = budget;
    const auto decisions = Elect(input);
    ASSERT_THAT(Addresses(decisions), ::testing::ContainerEq(sorted));
    for (size_t i = 0; i < decisions.size(); ++i) {
      const VipDecision& d = decisions[i];
      const auto ranked = Ranked(d.address, {"a", "b"});
      const bool moves = i < budget;
      EXPECT_EQ(d.rebalanced, moves) << "budget " << budget << " " << d.address;
      EXPECT_EQ(d.owner, moves ? ranked[0] : ranked[1]) << "budget " << budget << " " << d.address;
    }
  }
}

TEST(DuravipElectionTest, FailoverPreferenceAndOverrideDoNotSpendBudget) {
  // 198.18.0.1: its holder is dead (failover); .2: preferred node alive; .3: override; .4: held
  // by the loser. With budget 1, .4 still moves.
  ElectionInput input;
  const std::vector<std::string> nodes = {"a", "b", "c"};
  input.alive = {Node("a", {}), Node("b", {}), Node("c", {})};
  const auto loser = [&](const std::string& address) { return Ranked(address, nodes)[2]; };
  for (NodeReport& r : input.alive) {
    r.configured = {Listen("198.18.0.1"), Listen("198.18.0.2", loser("198.18.0.2")),
                    Listen("198.18.0.3"), Listen("198.18.0.4")};
    for (const char* address : {"198.18.0.2", "198.18.0.3", "198.18.0.4"}) {
      if (r.node == Ranked(address, nodes)[1]) r.held.insert(address);
    }
  }
  input.overrides = {{"198.18.0.3", loser("198.18.0.3")}};
  input.balance_budget = 1;
  const auto decisions = Elect(input);
  ASSERT_EQ(decisions.size(), 4u);
  EXPECT_EQ(decisions[0].owner, Ranked("198.18.0.1", nodes)[0]);
  EXPECT_EQ(decisions[1].owner, loser("198.18.0.2"));
  EXPECT_EQ(decisions[2].owner, loser("198.18.0.3"));
  EXPECT_EQ(decisions[3].owner, Ranked("198.18.0.4", nodes)[0]);
  EXPECT_THAT(std::vector<bool>({decisions[0].rebalanced, decisions[1].rebalanced,
                                 decisions[2].rebalanced, decisions[3].rebalanced}),
              ElementsAre(false, false, false, true));
}

// --- properties over random views -----------------------------------------------------------

constexpr int kIterations = ec::testutil::RunBudget(3000);

const std::vector<std::string> kNodePool = {"mta1", "mta2", "mta3", "mta4",
                                            "mta5", "mta6", "mta7", "node10"};
const std::vector<std::string> kAddressPool = {
    "198.18.0.1",  "198.18.0.2",  "198.18.0.10", "198.18.0.100",  "198.18.1.7",
    "2001:db8::1", "2001:db8::2", "2001:db8::a", "2001:db8:1::1", "fd00::25"};

struct GenOptions {
  bool preferences = true;
  bool overrides = true;
  bool conflicting_names = true;  // may produce broken addresses
};

bool Chance(std::mt19937& rng, double p) { return std::bernoulli_distribution(p)(rng); }

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

std::vector<VipConfig> RandomConfig(std::mt19937& rng, const GenOptions& opt) {
  std::vector<VipConfig> configured;
  for (size_t i = 0; i < kAddressPool.size(); ++i) {
    if (!Chance(rng, 0.5)) continue;
    const std::string& address = kAddressPool[i];
    const auto preference = [&]() -> std::string {
      return opt.preferences && Chance(rng, 0.1) ? Pick(rng, kNodePool) : "";
    };
    const int kinds = std::uniform_int_distribution<int>(1, 3)(rng);
    if (kinds & 1) configured.push_back(Listen(address, preference()));
    if (kinds & 2) {
      std::string name = "bind" + std::to_string(i);
      if (opt.conflicting_names && Chance(rng, 0.05)) name = "other";
      configured.push_back(Binding(address, name, preference()));
    }
  }
  return configured;
}

std::set<std::string> RandomHeld(std::mt19937& rng) {
  std::set<std::string> held;
  for (const std::string& address : kAddressPool) {
    if (Chance(rng, 0.2)) held.insert(address);
  }
  return held;
}

ElectionInput RandomInput(std::mt19937& rng, const GenOptions& opt = {}) {
  ElectionInput input;
  for (const std::string& node : kNodePool) {
    if (!Chance(rng, 0.6)) continue;
    // One statement each: the order of evaluation of call arguments is unspecified, and the
    // random stream must not depend on the compiler.
    std::vector<VipConfig> configured = RandomConfig(rng, opt);
    input.alive.push_back(Node(node, std::move(configured), RandomHeld(rng)));
  }
  std::shuffle(input.alive.begin(), input.alive.end(), rng);
  if (opt.overrides) {
    for (const std::string& address : kAddressPool) {
      if (Chance(rng, 0.1)) input.overrides[address] = Pick(rng, kNodePool);
    }
  }
  input.balance_budget = std::uniform_int_distribution<size_t>(0, 4)(rng);
  return input;
}

// The same view written differently: reports, configured lists shuffled, some entries twice.
ElectionInput Scrambled(std::mt19937& rng, ElectionInput input) {
  std::shuffle(input.alive.begin(), input.alive.end(), rng);
  for (NodeReport& r : input.alive) {
    const size_t n = r.configured.size();
    for (size_t i = 0; i < n; ++i) {
      if (Chance(rng, 0.3)) r.configured.push_back(r.configured[i]);
    }
    std::shuffle(r.configured.begin(), r.configured.end(), rng);
  }
  return input;
}

bool Has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string Owner(const std::vector<VipDecision>& decisions, const std::string& address) {
  for (const VipDecision& d : decisions) {
    if (d.address == address) return d.owner;
  }
  return "";
}

// An independent reading of the rules, straight from the input.
// (The random views never repeat a node name.)
struct Expected {
  std::vector<std::string> candidates, holders;
  bool broken = false;
  bool unsafe = false;
  std::set<std::string> preferences;
};
std::map<std::string, Expected> ExpectedFacts(const ElectionInput& input) {
  std::map<std::string, Expected> out;
  std::map<std::string, std::set<std::string>> names;
  std::map<std::string, std::map<std::string, std::set<std::string>>> kinds;  // address, node
  size_t configuring = 0;
  for (const NodeReport& r : input.alive) {
    if (!r.configured.empty()) ++configuring;
    for (const VipConfig& v : r.configured) {
      Expected& e = out[v.address];
      if (!Has(e.candidates, r.node)) e.candidates.push_back(r.node);
      if (v.kind == "binding") names[v.address].insert(v.name);
      if (!v.preference.empty()) e.preferences.insert(v.preference);
      kinds[v.address][r.node].insert(v.kind);
    }
  }
  for (auto& [address, e] : out) {
    for (const NodeReport& r : input.alive) {
      if (r.held.count(address) > 0) e.holders.push_back(r.node);
    }
    std::sort(e.candidates.begin(), e.candidates.end());
    std::sort(e.holders.begin(), e.holders.end());
    e.broken = names[address].size() > 1;
    std::set<std::set<std::string>> distinct_kinds;
    for (const auto& [node, k] : kinds[address]) distinct_kinds.insert(k);
    e.unsafe = e.candidates.size() != configuring || distinct_kinds.size() > 1;
  }
  return out;
}

std::string RendezvousMax(const std::vector<std::string>& nodes, const std::string& address) {
  return *std::max_element(nodes.begin(), nodes.end(), [&](const auto& x, const auto& y) {
    const uint64_t wx = RendezvousWeight(x, address), wy = RendezvousWeight(y, address);
    return wx != wy ? wx < wy : x > y;  // on a tie the smaller name is the larger element
  });
}

// Catches: a broken address still given an owner; an owner taken from holders that are not
// candidates (a node holding an address it no longer configures); addresses missing, repeated
// or unsorted; candidates/holders not deduplicated.
TEST(DuravipElectionPropertyTest, OneOwnerPerManagedAddressAlwaysACandidate) {
  std::mt19937 rng(20240601);
  for (int it = 0; it < kIterations; ++it) {
    const ElectionInput input = RandomInput(rng);
    const auto decisions = Elect(input);
    const auto expected = ExpectedFacts(input);
    ASSERT_EQ(decisions.size(), expected.size()) << "iteration " << it;
    auto e = expected.begin();
    for (const VipDecision& d : decisions) {
      ASSERT_EQ(d.address, e->first) << "iteration " << it;  // same set, same ascending order
      EXPECT_EQ(d.candidates, e->second.candidates) << "iteration " << it;
      EXPECT_EQ(d.holders, e->second.holders) << "iteration " << it;
      EXPECT_EQ(d.broken, e->second.broken) << "iteration " << it;
      if (d.broken) {
        EXPECT_EQ(d.owner, "") << "iteration " << it;
      } else {
        EXPECT_TRUE(Has(d.candidates, d.owner)) << "iteration " << it << " " << d.address;
      }
      ++e;
    }
  }
}

// Checks each decision against the rule order, and the budget against ascending address order.
// Catches: unsafe computed from candidates only (missing the nodes that lack the address);
// preference or holder outranking an override; a conflict resolved by taking the first
// preference seen; an unusable (dead) preference blocking the holder; the budget spent on
// failovers or preference moves, or in input order instead of address order.
TEST(DuravipElectionPropertyTest, OwnerFollowsTheRuleOrder) {
  std::mt19937 rng(7);
  for (int it = 0; it < kIterations; ++it) {
    const ElectionInput input = RandomInput(rng);
    const auto decisions = Elect(input);
    const auto expected = ExpectedFacts(input);
    size_t budget = input.balance_budget;
    for (const VipDecision& d : decisions) {
      const Expected& e = expected.at(d.address);
      SCOPED_TRACE("iteration " + std::to_string(it) + " " + d.address);
      EXPECT_EQ(d.unsafe, e.unsafe);
      EXPECT_EQ(d.conflict, e.preferences.size() > 1);
      EXPECT_EQ(d.preference, e.preferences.size() == 1 ? *e.preferences.begin() : "");
      if (d.broken) continue;
      const std::string winner = RendezvousMax(d.candidates, d.address);
      std::vector<std::string> live_holders;
      for (const std::string& h : d.holders) {
        if (Has(d.candidates, h)) live_holders.push_back(h);
      }
      const auto o = input.overrides.find(d.address);
      std::string want;
      bool rebalanced = false;
      if (o != input.overrides.end() && Has(d.candidates, o->second)) {
        want = o->second;
      } else if (Has(d.candidates, d.preference)) {
        want = d.preference;
      } else if (!live_holders.empty()) {
        want = RendezvousMax(live_holders, d.address);
        if (want != winner && budget > 0) {
          --budget;
          want = winner;
          rebalanced = true;
        }
      } else {
        want = winner;
      }
      EXPECT_EQ(d.owner, want);
      EXPECT_EQ(d.rebalanced, rebalanced);
    }
  }
}

// Catches any dependence on input order: first-seen preference or holder, unordered containers,
// candidates left in report order, duplicates counted twice (e.g. as a kind difference).
TEST(DuravipElectionPropertyTest, ResultDoesNotDependOnInputOrder) {
  std::mt19937 rng(99);
  for (int it = 0; it < kIterations; ++it) {
    const ElectionInput input = RandomInput(rng);
    const auto want = Elect(input);
    EXPECT_EQ(Elect(Scrambled(rng, input)), want) << "iteration " << it;
  }
}

// With unlimited budget and no preferences the owner is the rendezvous winner whatever is held.
// Catches modulo placement (candidates[hash(address) % n]) or any ranking that depends on the
// set of candidates: removing one node would move addresses it did not own.
TEST(DuravipElectionPropertyTest, RemovingANodeMovesOnlyWhatItOwned) {
  std::mt19937 rng(3);
  const GenOptions opt{.preferences = false, .overrides = false, .conflicting_names = false};
  size_t moved = 0;
  for (int it = 0; it < kIterations; ++it) {
    ElectionInput input = RandomInput(rng, opt);
    if (input.alive.empty()) continue;
    input.balance_budget = kUnlimited;
    const auto before = Elect(input);
    const size_t gone = std::uniform_int_distribution<size_t>(0, input.alive.size() - 1)(rng);
    const std::string removed = input.alive[gone].node;
    input.alive.erase(input.alive.begin() + static_cast<std::ptrdiff_t>(gone));
    for (const VipDecision& d : Elect(input)) {
      const std::string old = Owner(before, d.address);
      if (old == removed) {
        ++moved;
      } else {
        EXPECT_EQ(d.owner, old) << "iteration " << it << " " << d.address << " removed " << removed;
      }
    }
  }
  EXPECT_GT(moved, 100u);  // the property was exercised
}

// Same bug class as above, seen from a node joining: an address may only move to the newcomer.
TEST(DuravipElectionPropertyTest, AddingANodeMovesAddressesOnlyToIt) {
  std::mt19937 rng(4);
  const GenOptions opt{.preferences = false, .overrides = false, .conflicting_names = false};
  size_t moved = 0;
  for (int it = 0; it < kIterations; ++it) {
    ElectionInput input = RandomInput(rng, opt);
    input.balance_budget = kUnlimited;
    std::vector<std::string> absent;
    for (const std::string& n : kNodePool) {
      if (std::none_of(input.alive.begin(), input.alive.end(),
                       [&](const NodeReport& r) { return r.node == n; })) {
        absent.push_back(n);
      }
    }
    if (absent.empty()) continue;
    const auto before = Elect(input);
    const std::string added = Pick(rng, absent);
    std::vector<VipConfig> configured = RandomConfig(rng, opt);
    input.alive.push_back(Node(added, std::move(configured), RandomHeld(rng)));
    for (const VipDecision& d : Elect(input)) {
      const std::string old = Owner(before, d.address);
      if (old.empty()) continue;  // configured only by the newcomer
      if (d.owner != old) {
        ++moved;
        EXPECT_EQ(d.owner, added) << "iteration " << it << " " << d.address;
      }
    }
  }
  EXPECT_GT(moved, 100u);
}

// Catches an election that ignores holders (pure rendezvous: a joining node would pull
// addresses off their live holders) or that rebalances with no budget left.
TEST(DuravipElectionPropertyTest, WithoutBudgetNothingHeldByALiveCandidateMoves) {
  std::mt19937 rng(5);
  const GenOptions opt{.preferences = false, .overrides = false, .conflicting_names = false};
  size_t kept = 0;
  for (int it = 0; it < kIterations; ++it) {
    ElectionInput input = RandomInput(rng, opt);
    const auto before = Elect(input);
    // The next round: holders are what the last one decided; a node may leave, join, or
    // change its configuration meanwhile.
    for (NodeReport& r : input.alive) {
      r.held.clear();
      for (const VipDecision& d : before) {
        if (d.owner == r.node) r.held.insert(d.address);
      }
    }
    switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
      case 0:
        if (!input.alive.empty()) input.alive.pop_back();
        break;
      case 1: {
        const std::string& n = Pick(rng, kNodePool);
        if (std::none_of(input.alive.begin(), input.alive.end(),
                         [&](const NodeReport& r) { return r.node == n; })) {
          input.alive.push_back(Node(n, RandomConfig(rng, opt)));
        }
        break;
      }
      default:
        if (!input.alive.empty()) input.alive.front().configured = RandomConfig(rng, opt);
    }
    input.balance_budget = 0;
    for (const VipDecision& d : Elect(input)) {
      const std::string old = Owner(before, d.address);
      if (!Has(d.candidates, old)) continue;  // left, or no longer configures it
      ++kept;
      EXPECT_EQ(d.owner, old) << "iteration " << it << " " << d.address;
      EXPECT_FALSE(d.rebalanced);
    }
  }
  EXPECT_GT(kept, 1000u);
}

// Catches `if (budget-- > 0)` (wraps at 0 and then moves everything), counting the budget per
// holder or per address, and never spending it.
TEST(DuravipElectionPropertyTest, BudgetIsNeverExceededAndUsedWhenNeeded) {
  std::mt19937 rng(6);
  for (int it = 0; it < kIterations; ++it) {
    ElectionInput input = RandomInput(rng);
    const auto decisions = Elect(input);
    size_t rebalanced = 0;
    size_t stayed_off_winner = 0;  // live holder kept although not the rendezvous winner
    for (const VipDecision& d : decisions) {
      if (d.rebalanced) {
        ++rebalanced;
        EXPECT_EQ(d.owner, RendezvousMax(d.candidates, d.address));
        EXPECT_FALSE(Has(d.holders, d.owner));
      } else if (!d.broken && Has(d.holders, d.owner) &&
                 d.owner != RendezvousMax(d.candidates, d.address) &&
                 !input.overrides.count(d.address) && d.preference.empty()) {
        ++stayed_off_winner;
      }
    }
    EXPECT_LE(rebalanced, input.balance_budget) << "iteration " << it;
    if (stayed_off_winner > 0) {
      EXPECT_EQ(rebalanced, input.balance_budget) << "iteration " << it;  // it was all spent
    }
  }
}

}  // namespace
}  // namespace ec::duravip
