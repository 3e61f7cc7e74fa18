// The placement decision, over every combination of who holds a binding's address and who is
// reachable, plus the batch planner and the arrival assignment.
#include "mta/mmove/move_decision.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ec::mmove
