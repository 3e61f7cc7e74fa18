// LimitMembersOf: who takes part in the cluster-wide limits' quorum and leadership.
#include "mta/cluster/limit_members.h"

#include <gtest/gtest.h>

#include "replication/share_allocator.h"

namespace ec::mta::cluster {
namespace {

msgc::Member M(std::string name, msgc::PeerState state, std::set<std::string> groups,
               msgc::Clock::time_point since) {
  msgc::Member m;
  m.name = std::move(name);
  m.state = state;
  m.groups = std::move(groups);
  m.state_since = since;
  return m;
}

TEST(LimitMembersTest, ManagerAndBystandersRunNoLimits) {
  const auto now = msgc::Clock::now();
  const auto old = now - std::chrono::seconds(10);
  msgc::View view;
  view.members = {M("configd", msgc::PeerState::kAlive, {}, old),
                  M("manager", msgc::PeerState::kAlive, {"ec_cluster"}, old),
                  M("n1", msgc::PeerState::kAlive, {"ec_cluster"}, old),
                  M("n2", msgc::PeerState::kAlive, {}, now),  // just came up, joins in a moment
                  M("n3", msgc::PeerState::kDead, {}, old)};
  std::set<std::string> bystanders;
  LimitMembers m = LimitMembersOf(view, "n1", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(m.members, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(m.alive, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(bystanders, (std::set<std::string>{"configd"}));
  // configd dies: still no member (remembered). n2 joined.
  view.members[0].state = msgc::PeerState::kDead;
  view.members[3].groups = {"ec_cluster"};
  m = LimitMembersOf(view, "n1", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(m.members, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(m.alive, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(replication::LeaderOf(m.alive, m.members), "n1");
  // A bystander that joins the group after all takes part.
  view.members[0] = M("configd", msgc::PeerState::kAlive, {"ec_cluster"}, now);
  m = LimitMembersOf(view, "n1", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(m.members, (std::vector<std::string>{"configd", "n1", "n2", "n3"}));
  EXPECT_TRUE(bystanders.empty());
}

TEST(LimitMembersTest, SelfAlwaysTakesPart) {
  const auto now = msgc::Clock::now();
  std::set<std::string> bystanders;
  // Not in the view (a test bus), not in the group, even named a control peer.
  LimitMembers m = LimitMembersOf(msgc::View{}, "n1", "ec_cluster", {"n1"}, &bystanders, now);
  EXPECT_EQ(m.members, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(m.alive, (std::vector<std::string>{"n1"}));
  msgc::View view;
  view.members = {M("n1", msgc::PeerState::kAlive, {}, now - std::chrono::seconds(10))};
  m = LimitMembersOf(view, "n1", "ec_cluster", {}, &bystanders, now);
  EXPECT_EQ(m.members, (std::vector<std::string>{"n1"}));
  EXPECT_TRUE(bystanders.empty());
}

TEST(LimitMembersTest, QuorumOfTheParticipants) {
  const auto now = msgc::Clock::now();
  const auto old = now - std::chrono::seconds(10);
  std::set<std::string> bystanders;
  msgc::View view;
  view.members = {M("manager", msgc::PeerState::kAlive, {"ec_cluster"}, old),
                  M("n1", msgc::PeerState::kAlive, {"ec_cluster"}, old),
                  M("n2", msgc::PeerState::kDead, {}, old),
                  M("n3", msgc::PeerState::kDead, {}, old)};
  // n1 alone of three nodes (the manager does not vote): no leader.
  LimitMembers m = LimitMembersOf(view, "n1", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(replication::LeaderOf(m.alive, m.members), std::nullopt);
  // n2 back and in the group: two of three, the lowest leads.
  view.members[2] = M("n2", msgc::PeerState::kAlive, {"ec_cluster"}, now);
  m = LimitMembersOf(view, "n2", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(replication::LeaderOf(m.alive, m.members), "n1");
  // Alive but not (yet) in the group: counted, not alive.
  view.members[2].groups.clear();
  m = LimitMembersOf(view, "n1", "ec_cluster", {"manager"}, &bystanders, now);
  EXPECT_EQ(m.members.size(), 3u);
  EXPECT_EQ(m.alive, (std::vector<std::string>{"n1"}));
}

}  // namespace
}  // namespace ec::mta::cluster
