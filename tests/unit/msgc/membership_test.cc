// The membership state machine driven with a fake clock.
#include "msgc/membership.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ec::msgc {
namespace {

using Kind = MembershipEvent::Kind;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr auto kTimeout = milliseconds(600);

class MsgcMembershipTest : public ::testing::Test {
 protected:
  // Advances the fake clock in heartbeat-sized steps, as the Bus's timer does, hearing from
  // `alive` peers at each step; returns every event.
  Membership::Events Step(milliseconds total, std::vector<std::string> alive = {}) {
    Membership::Events all;
    for (milliseconds t{0}; t < total; t += milliseconds(100)) {
      now_ += milliseconds(100);
      for (const auto& peer : alive) {
        for (auto& e : m_.Heard(peer, incarnations_[peer], now_)) all.push_back(e);
      }
      for (auto& e : m_.Expire(now_)) all.push_back(e);
    }
    return all;
  }

  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  std::map<std::string, uint64_t> incarnations_ = {{"a", 11}, {"b", 22}};
  Membership m_{
      "self", 1, {{"self", "10.0.0.1"}, {"a", "10.0.0.2"}, {"b", "10.0.0.3"}}, kTimeout, now_};
};

TEST_F(MsgcMembershipTest, StartsWithOnlySelfAlive) {
  const View& v = m_.view();
  ASSERT_EQ(v.members.size(), 3u);
  EXPECT_EQ(v.Find("self")->state, PeerState::kAlive);
  EXPECT_EQ(v.Find("a")->state, PeerState::kConnecting);
  EXPECT_EQ(v.Find("b")->address, "10.0.0.3");
  EXPECT_THAT(v.AliveMembers(), ElementsAre("self"));
  // CONNECTING peers are never declared dead: they were never alive.
  EXPECT_THAT(Step(milliseconds(2000)), IsEmpty());
}

TEST_F(MsgcMembershipTest, HeardPeerIsAliveAndSilentOneDiesAfterTheTimeout) {
  EXPECT_THAT(m_.Heard("a", 11, now_), ElementsAre(MembershipEvent{Kind::kAlive, "a", 11, "", ""}));
  const uint64_t id = m_.view().id;
  EXPECT_THAT(m_.Heard("a", 11, now_), IsEmpty());  // no change, no event
  EXPECT_EQ(m_.view().id, id);
  // 500 ms of silence: still alive; at 600 ms: dead.
  EXPECT_THAT(Step(milliseconds(500)), IsEmpty());
  EXPECT_THAT(Step(milliseconds(100)),
              ElementsAre(MembershipEvent{Kind::kDead, "a", 11, "", "timeout"}));
  EXPECT_EQ(m_.view().Find("a")->state, PeerState::kDead);
  EXPECT_EQ(m_.view().id, id + 1);
}

TEST_F(MsgcMembershipTest, PeerThatKeepsTalkingStaysAlive) {
  m_.Heard("a", 11, now_);
  m_.Heard("b", 22, now_);
  EXPECT_THAT(Step(milliseconds(5000), {"a"}),
              ElementsAre(MembershipEvent{Kind::kDead, "b", 22, "", "timeout"}));
  EXPECT_TRUE(m_.IsAlive("a"));
}

TEST_F(MsgcMembershipTest, NewIncarnationIsARestart) {
  m_.Heard("a", 11, now_);
  EXPECT_THAT(m_.Heard("a", 12, now_),
              ElementsAre(MembershipEvent{Kind::kDead, "a", 11, "", "restarted"},
                          MembershipEvent{Kind::kAlive, "a", 12, "", ""}));
  EXPECT_EQ(m_.view().Find("a")->incarnation, 12u);
}

TEST_F(MsgcMembershipTest, DeadPeerHeardAgainRejoins) {
  m_.Heard("a", 11, now_);
  Step(kTimeout);
  ASSERT_FALSE(m_.IsAlive("a"));
  EXPECT_THAT(m_.Heard("a", 11, now_), ElementsAre(MembershipEvent{Kind::kAlive, "a", 11, "", ""}));
}

TEST_F(MsgcMembershipTest, GoodbyeIsImmediateButOnlyForTheCurrentIncarnation) {
  m_.Heard("a", 11, now_);
  EXPECT_THAT(m_.Goodbye("a", 10, now_), IsEmpty());
  EXPECT_THAT(m_.Goodbye("a", 11, now_),
              ElementsAre(MembershipEvent{Kind::kDead, "a", 11, "", "goodbye"}));
  EXPECT_THAT(m_.Goodbye("a", 11, now_), IsEmpty());
}

TEST_F(MsgcMembershipTest, OurOwnStallIsNotHeldAgainstPeers) {
  m_.Heard("a", 11, now_);
  now_ += milliseconds(2000);  // this process did not run for 2 s
  EXPECT_THAT(m_.Expire(now_), IsEmpty());
  EXPECT_TRUE(m_.IsAlive("a"));
  // From here the silence clock runs normally again.
  EXPECT_THAT(Step(milliseconds(500)), IsEmpty());
  EXPECT_THAT(Step(milliseconds(100)),
              ElementsAre(MembershipEvent{Kind::kDead, "a", 11, "", "timeout"}));
}

TEST_F(MsgcMembershipTest, GroupsFollowHelloJoinLeaveAndDeath) {
  m_.Heard("a", 11, now_);
  m_.Heard("b", 22, now_);
  EXPECT_THAT(m_.SetGroups("a", {"ec_cluster", "ec_console"}),
              ElementsAre(MembershipEvent{Kind::kGroupJoined, "a", 11, "ec_cluster", ""},
                          MembershipEvent{Kind::kGroupJoined, "a", 11, "ec_console", ""}));
  EXPECT_THAT(m_.SetGroups("a", {"ec_console"}),
              ElementsAre(MembershipEvent{Kind::kGroupLeft, "a", 11, "ec_cluster", ""}));
  EXPECT_THAT(m_.JoinGroup("b", "ec_console"),
              ElementsAre(MembershipEvent{Kind::kGroupJoined, "b", 22, "ec_console", ""}));
  EXPECT_THAT(m_.JoinGroup("b", "ec_console"), IsEmpty());
  EXPECT_THAT(m_.AliveIn("ec_console"), ElementsAre("a", "b"));
  EXPECT_THAT(m_.LeaveGroup("b", "ec_console"),
              ElementsAre(MembershipEvent{Kind::kGroupLeft, "b", 22, "ec_console", ""}));
  Step(kTimeout, {"b"});
  EXPECT_THAT(m_.AliveIn("ec_console"), IsEmpty());
  EXPECT_TRUE(m_.view().Find("a")->groups.empty());
  EXPECT_THAT(m_.JoinGroup("a", "x"), IsEmpty());  // dead peers cannot join
}

TEST_F(MsgcMembershipTest, UnknownPeersAndSelfAreIgnored) {
  EXPECT_THAT(m_.Heard("stranger", 5, now_), IsEmpty());
  EXPECT_THAT(m_.Heard("self", 5, now_), IsEmpty());
  EXPECT_EQ(m_.view().Find("self")->incarnation, 1u);
  EXPECT_FALSE(m_.IsConfigured("stranger"));
}

TEST_F(MsgcMembershipTest, ViewMaturesWhenUnchangedForTheMatureTime) {
  const auto mature = milliseconds(5000);
  m_.Heard("a", 11, now_);
  EXPECT_FALSE(m_.view().Mature(now_, mature));
  Step(milliseconds(4900), {"a"});
  EXPECT_FALSE(m_.view().Mature(now_, mature));
  Step(milliseconds(100), {"a"});
  EXPECT_TRUE(m_.view().Mature(now_, mature));
  m_.Heard("b", 22, now_);  // a change restarts the clock
  EXPECT_FALSE(m_.view().Mature(now_, mature));
  EXPECT_EQ(m_.view().StableFor(now_), Clock::duration::zero());
}

}  // namespace
}  // namespace ec::msgc
