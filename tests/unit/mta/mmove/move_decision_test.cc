// The placement decision, over every combination of who holds a binding's address and who is
// reachable, plus the batch planner, the arrival assignment and the release planner.
#include "mta/mmove/move_decision.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ec::mmove {
namespace {

// Every owner a binding can have as seen from node "a": not a DuraVIP binding (nullopt), no
// holder (""), this node, or another member.
const std::vector<std::optional<std::string>> kDecisionOwners = {std::nullopt, "", "a", "b", "c"};

TEST(MmoveDecision, PlaceIsExhaustivelyAsSpecified) {
  const std::vector<std::set<std::string>> reachables = {{}, {"b"}, {"c"}, {"b", "c"},
                                                         {"a", "b", "c"}};
  int moves = 0, holds = 0, here = 0;
  for (const auto& owner : kDecisionOwners) {
    for (const auto& reachable : reachables) {
      OwnershipView v{.self = "a", .reachable = reachable};
      v.vip_owner["other"] = "b";  // other bindings never change the answer
      if (owner) v.vip_owner["vip"] = *owner;
      PlacementResult p = Place("vip", v);
      if (!owner || *owner == "a") {
        EXPECT_EQ(p, PlacementResult{});
        ++here;
      } else if (owner->empty() || !reachable.count(*owner)) {
        EXPECT_EQ(p, PlacementResult{.placement = Placement::kHold});
        ++holds;
      } else {
        EXPECT_EQ(p, (PlacementResult{.placement = Placement::kMove, .node = *owner}));
        ++moves;
      }
    }
  }
  EXPECT_EQ(here, 10);
  EXPECT_EQ(holds, 9);  // "" x5, b unreachable x2, c unreachable x2
  EXPECT_EQ(moves, 6);
}

TEST(MmoveDecision, PlanMovesGroupsBoundsAndSkipsBusy) {
  OwnershipView v{.self = "a",
                  .vip_owner = {{"vb", "b"}, {"vc", "c"}, {"va", "a"}, {"vx", ""}},
                  .reachable = {"b", "c"}};
  std::vector<QueuedMessage> q = {
      {.id = 1, .binding = "vb"},  {.id = 2, .binding = "plain"}, {.id = 3, .binding = "vc"},
      {.id = 4, .binding = "vb", .busy = true}, {.id = 5, .binding = "va"},
      {.id = 6, .binding = "vx"},  {.id = 7, .binding = "vb"},    {.id = 8, .binding = "vb"},
  };
  auto plan = PlanMoves(q, v, 2);
  EXPECT_EQ(plan, (std::map<std::string, std::vector<uint64_t>>{{"b", {1, 7}}, {"c", {3}}}));
  EXPECT_TRUE(PlanMoves(q, v, 0).empty());
  EXPECT_TRUE(PlanMoves({}, v, 10).empty());
  v.reachable.clear();
  EXPECT_TRUE(PlanMoves(q, v, 10).empty());
}

TEST(MmoveDecision, AssignmentOnArrivalAllCases) {
  const std::vector<Assignment> spooled = {{}, {.binding = "vip"}, {.group = "g"}};
  for (const Assignment& s : spooled) {
    EXPECT_EQ(AssignmentOnArrival(s, "vip", true), s);
    EXPECT_EQ(AssignmentOnArrival(s, "vip", false), (Assignment{.binding = "vip"}));
  }
}

TEST(MmoveDecision, ArrivingEnvelopeKeepsOnlyPendingRecipients) {
  using Kind = spool::RecipientState::Kind;
  spool::Envelope sent;
  sent.mail_from = "s@example.org";
  sent.binding_group = "g";
  for (const char* r : {"p1@x", "done@x", "failed@x", "p2@x"}) sent.rcpts.push_back({.address = r});
  const std::vector<spool::RecipientState> states = {
      {}, {.kind = Kind::kDone}, {.kind = Kind::kFailed}, {.retries = 4}};
  for (bool rebind : {true, false}) {
    spool::Envelope e = ArrivingEnvelope(sent, states, "vip", rebind);
    ASSERT_EQ(e.rcpts.size(), 2u);
    EXPECT_EQ(e.rcpts[0].address, "p1@x");
    EXPECT_EQ(e.rcpts[1].address, "p2@x");
    EXPECT_EQ(e.mail_from, sent.mail_from);
    EXPECT_EQ(e.binding, rebind ? "" : "vip");
    EXPECT_EQ(e.binding_group, rebind ? "g" : "");
  }
  // Missing states (an older record) count as pending; all final: no recipients.
  EXPECT_EQ(ArrivingEnvelope(sent, {}, "vip", true).rcpts.size(), 4u);
  EXPECT_TRUE(ArrivingEnvelope(sent, std::vector<spool::RecipientState>(4, {.kind = Kind::kDone}),
                               "vip", true)
                  .rcpts.empty());
}

// Release: every combination of node (valid or not, self, alive or not) over an in-doubt set
// with messages to several nodes, some of them in a move.
// What node "a" releases for each dead node and set of messages in a move.
const std::map<std::pair<std::string, std::set<uint64_t>>, ReleasePlan> kReleaseWant = {
    {{"b", {}}, {.ids = {1, 3, 4}}},
    {{"b", {3}}, {.ids = {1, 4}, .moving = 1}},
    {{"b", {1, 2, 3, 4, 5}}, {.moving = 3}},
    {{"b", {9}}, {.ids = {1, 3, 4}}},
    {{"c", {}}, {.ids = {2, 5}}},
    {{"c", {3}}, {.ids = {2, 5}}},
    {{"c", {1, 2, 3, 4, 5}}, {.moving = 2}},
    {{"c", {9}}, {.ids = {2, 5}}},
    {{"d", {}}, {}},
    {{"d", {3}}, {}},
    {{"d", {1, 2, 3, 4, 5}}, {}},
    {{"d", {9}}, {}},
};

TEST(MmoveDecision, PlanReleaseIsExhaustivelyAsSpecified) {
  const std::map<uint64_t, std::string> doubt = {
      {1, "b"}, {2, "c"}, {3, "b"}, {4, "b"}, {5, "c"}};
  const std::vector<std::set<uint64_t>> movings = {{}, {3}, {1, 2, 3, 4, 5}, {9}};
  const std::vector<std::string> nodes = {"a", "b", "c", "d", "", "B", "-x", "b c",
                                          std::string(65, 'b')};
  int refused = 0, planned = 0;
  for (const std::string& node : nodes) {
    for (bool alive : {false, true}) {
      for (const auto& moving : movings) {
        auto r = PlanRelease(doubt, node, "a", alive, moving);
        const bool valid = node == "a" || node == "b" || node == "c" || node == "d";
        if (!valid || node == "a") {
          ASSERT_FALSE(r.ok()) << node;
          EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << node;
          ++refused;
          continue;
        }
        if (alive) {
          ASSERT_FALSE(r.ok()) << node;
          EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << node;
          ++refused;
          continue;
        }
        ASSERT_TRUE(r.ok()) << node << ": " << r.status().message();
        auto want = kReleaseWant.find({node, moving});
        ASSERT_NE(want, kReleaseWant.end()) << node;
        EXPECT_EQ(*r, want->second) << node;
        ++planned;
      }
    }
  }
  EXPECT_EQ(refused, 9 * 2 * 4 - 3 * 4);  // only b, c, d while dead are planned
  EXPECT_EQ(planned, 12);
  EXPECT_EQ(*PlanRelease({}, "b", "a", false, {}), ReleasePlan{});
}

}  // namespace
}  // namespace ec::mmove
