// Several Bus nodes in one process, one libevent loop, on 127.0.0.2... with short timers.
#include "msgc/bus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <zmq_addon.hpp>

#include "tests/unit/msgc/bus_test_util.h"

namespace ec::msgc {
namespace {

using ::ec::msgc::testing::FreePortOnLoopbacks;
using ::ec::msgc::testing::kDeadTimeout;
using ::ec::msgc::testing::LogCollector;
using ::ec::msgc::testing::TestLoop;
using ::ec::msgc::testing::TestOptions;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

using ::ec::msgc::testing::kConverge;

class MsgcBusTest : public ::testing::Test {
 protected:
  // Starts nodes n0..n<count-1>.
  void StartCluster(int count) {
    count_ = count;
    port_ = FreePortOnLoopbacks(count);
    logs_.resize(count);
    buses_.resize(count);
    for (int i = 0; i < count; ++i) StartNode(i);
  }
  void StartNode(int i) {
    auto bus = Bus::Create(loop_.base(), TestOptions(count_, i, port_, logs_[i].Fn()));
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    buses_[i] = std::move(bus).value();
  }
  bool AllSeeAll() const {
    for (const auto& bus : buses_) {
      if (bus == nullptr) continue;
      for (const auto& other : buses_) {
        if (other != nullptr && other != bus && !bus->IsAlive(other->name())) return false;
      }
    }
    return true;
  }
  // True when `bus` knows `peer` is a live member of `group`.
  static bool SeesInGroup(const Bus& bus, const std::string& peer, const std::string& group) {
    const Member* m = bus.view().Find(peer);
    return m != nullptr && m->state == PeerState::kAlive && m->groups.count(group) != 0;
  }

  TestLoop loop_;
  int count_ = 0;
  uint16_t port_ = 0;
  std::vector<LogCollector> logs_;
  std::vector<std::unique_ptr<Bus>> buses_;
};

TEST_F(MsgcBusTest, MembershipConvergesAndMatures) {
  StartCluster(3);
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  const View& view = buses_[0]->view();
  ASSERT_EQ(view.members.size(), 3u);
  for (const Member& m : view.members) {
    EXPECT_EQ(m.state, PeerState::kAlive) << m.name;
    EXPECT_NE(m.incarnation, 0u) << m.name;
  }
  EXPECT_EQ(view.Find("n1")->incarnation, buses_[1]->incarnation());
  EXPECT_EQ(view.Find("n1")->address, "127.0.0.3");
  // The view matures once nothing has changed for view_mature_time (300 ms here).
  ASSERT_TRUE(loop_.RunUntil([&] { return buses_[0]->Mature(); }, kConverge));
  EXPECT_GE(view.StableFor(Clock::now()), std::chrono::milliseconds(300));
  EXPECT_TRUE(logs_[0].Contains("event=peer_alive node=n0 peer=n1"));
}

TEST_F(MsgcBusTest, ShoutReachesJoinedMembersOnly) {
  StartCluster(4);
  std::map<int, std::vector<std::string>> got;
  for (int i = 1; i < 4; ++i) {
    buses_[i]->SetHandler("ec_console", [&got, i](const Message& m) {
      got[i].push_back(m.sender + ":" + m.payload);
    });
    buses_[i]->SetHandler("marker", [&got, i](const Message& m) { got[i].push_back("marker"); });
  }
  ASSERT_TRUE(buses_[1]->Join("ec_console").ok());
  ASSERT_TRUE(buses_[2]->Join("ec_console").ok());
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        return AllSeeAll() && SeesInGroup(*buses_[0], "n1", "ec_console") &&
               SeesInGroup(*buses_[0], "n2", "ec_console");
      },
      kConverge));
  EXPECT_FALSE(SeesInGroup(*buses_[0], "n3", "ec_console"));
  ASSERT_TRUE(buses_[0]->Shout("ec_console", "summary").ok());
  // Frames from one sender arrive in order: once n3 has the marker, it would have had the shout.
  ASSERT_TRUE(buses_[0]->Whisper("n3", "marker", "").ok());
  ASSERT_TRUE(loop_.RunUntil(
      [&] { return got[1].size() == 1 && got[2].size() == 1 && got[3].size() == 1; }, kConverge));
  EXPECT_THAT(got[1], ElementsAre("n0:summary"));
  EXPECT_THAT(got[2], ElementsAre("n0:summary"));
  EXPECT_THAT(got[3], ElementsAre("marker"));
}

TEST_F(MsgcBusTest, LeaveStopsShouts) {
  StartCluster(2);
  std::vector<std::string> got;
  buses_[1]->SetHandler("ec_cluster", [&](const Message& m) { got.push_back(m.payload); });
  ASSERT_TRUE(buses_[1]->Join("ec_cluster").ok());
  // Both directions up (n1 hears n0), and n0 knows n1 joined.
  ASSERT_TRUE(loop_.RunUntil(
      [&] { return AllSeeAll() && SeesInGroup(*buses_[0], "n1", "ec_cluster"); }, kConverge));
  ASSERT_TRUE(buses_[0]->Shout("ec_cluster", "one").ok());
  ASSERT_TRUE(loop_.RunUntil([&] { return got.size() == 1; }, kConverge));
  ASSERT_TRUE(buses_[1]->Leave("ec_cluster").ok());
  ASSERT_TRUE(
      loop_.RunUntil([&] { return !SeesInGroup(*buses_[0], "n1", "ec_cluster"); }, kConverge));
  ASSERT_TRUE(buses_[0]->Shout("ec_cluster", "two").ok());
  buses_[1]->SetHandler("marker", [&](const Message&) { got.push_back("marker"); });
  ASSERT_TRUE(buses_[0]->Whisper("n1", "marker", "").ok());
  ASSERT_TRUE(loop_.RunUntil([&] { return got.size() == 2; }, kConverge));
  EXPECT_THAT(got, ElementsAre("one", "marker"));
}

TEST_F(MsgcBusTest, WhisperReachesOnlyThePeer) {
  StartCluster(3);
  std::vector<std::string> got1, got2;
  buses_[1]->SetHandler("ec_config", [&](const Message& m) { got1.push_back(m.payload); });
  buses_[2]->SetHandler("ec_config", [&](const Message& m) { got2.push_back(m.payload); });
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  ASSERT_TRUE(buses_[0]->Whisper("n2", "ec_config", "rev 7").ok());
  ASSERT_TRUE(buses_[0]->Whisper("n1", "ec_config", "rev 8").ok());
  ASSERT_TRUE(loop_.RunUntil([&] { return got1.size() == 1 && got2.size() == 1; }, kConverge));
  EXPECT_THAT(got1, ElementsAre("rev 8"));
  EXPECT_THAT(got2, ElementsAre("rev 7"));
  EXPECT_EQ(buses_[0]->Whisper("nobody", "ec_config", "x").code(), StatusCode::kUnavailable);
}

TEST_F(MsgcBusTest, RequestDeadlineWhileOthersAnswer) {
  StartCluster(3);
  buses_[1]->SetHandler("ec_console", [&](const Message& m) {
    EXPECT_TRUE(buses_[1]->Reply(m, "n1 says " + m.payload).ok());
  });
  buses_[2]->SetHandler("ec_console", [](const Message&) {});  // never answers
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  std::map<std::string, Result<std::string>> replies;
  auto record = [&](const std::string& key) {
    return [&replies, key](Result<std::string> r) { replies.emplace(key, std::move(r)); };
  };
  buses_[0]->Request("n1", "ec_console", "summary", std::chrono::milliseconds(500), record("n1"));
  buses_[0]->Request("n2", "ec_console", "summary", std::chrono::milliseconds(500), record("n2"));
  buses_[0]->Request("n1", "no_such_group", "x", std::chrono::milliseconds(500),
                     record("nohandler"));
  buses_[0]->Request("ghost", "ec_console", "x", std::chrono::milliseconds(500), record("ghost"));
  EXPECT_TRUE(replies.empty());  // callbacks never run inside Request()
  ASSERT_TRUE(loop_.RunUntil([&] { return replies.size() == 4; }, kConverge));
  ASSERT_TRUE(replies.at("n1").ok()) << replies.at("n1").status().ToString();
  EXPECT_EQ(*replies.at("n1"), "n1 says summary");
  EXPECT_EQ(replies.at("n2").status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(replies.at("nohandler").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(replies.at("nohandler").status().message(), ::testing::HasSubstr("no handler"));
  EXPECT_EQ(replies.at("ghost").status().code(), StatusCode::kUnavailable);
}

TEST_F(MsgcBusTest, DestroyedPeerSaysGoodbyeAndRestartIsANewMember) {
  StartCluster(3);
  std::vector<std::string> events;
  buses_[0]->SetMembershipHandler([&](const MembershipEvent& e, const View&) {
    if (e.peer == "n2" &&
        (e.kind == MembershipEvent::Kind::kAlive || e.kind == MembershipEvent::Kind::kDead)) {
      events.push_back(std::string(EventKindName(e.kind)) + ":" + e.reason);
    }
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  const uint64_t old_incarnation = buses_[2]->incarnation();
  const uint64_t view_before = buses_[0]->view().id;
  buses_[2].reset();
  // GOODBYE: well before the dead timeout would expire.
  ASSERT_TRUE(loop_.RunUntil([&] { return !buses_[0]->IsAlive("n2"); }, kDeadTimeout / 2));
  EXPECT_EQ(buses_[0]->view().Find("n2")->state, PeerState::kDead);
  EXPECT_GT(buses_[0]->view().id, view_before);
  ASSERT_TRUE(loop_.RunUntil([&] { return !buses_[1]->IsAlive("n2"); }, kConverge));

  StartNode(2);
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  EXPECT_NE(buses_[0]->view().Find("n2")->incarnation, old_incarnation);
  EXPECT_EQ(buses_[0]->view().Find("n2")->incarnation, buses_[2]->incarnation());
  EXPECT_THAT(events, ElementsAre("alive:", "dead:goodbye", "alive:"));
}

TEST_F(MsgcBusTest, MalformedAndForeignFramesAreDroppedAndLogged) {
  StartCluster(2);
  ASSERT_TRUE(loop_.RunUntil([&] { return AllSeeAll(); }, kConverge));
  zmq::context_t context(1);
  zmq::socket_t raw(context, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::routing_id, "n1");
  raw.set(zmq::sockopt::linger, 0);
  raw.connect("tcp://127.0.0.2:" + std::to_string(port_));
  // Garbage, a frame from an unknown node, and a frame whose sender lies about its identity.
  raw.send(zmq::str_buffer("not a bus frame"), zmq::send_flags::none);
  Frame frame;
  frame.type = MessageType::kWhisper;
  frame.incarnation = 1;
  frame.sequence = 1;
  frame.sender = "n9";
  frame.group = "g";
  raw.send(zmq::buffer(*Encode(frame)), zmq::send_flags::none);
  std::array<zmq::const_buffer, 2> two_parts = {zmq::str_buffer("a"), zmq::str_buffer("b")};
  zmq::send_multipart(raw, two_parts);
  raw.send(zmq::buffer(std::string(kMaxFrameSize + 1, '\xEC')), zmq::send_flags::none);
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        return buses_[0]->stats().malformed_dropped == 3 && buses_[0]->stats().foreign_dropped == 1;
      },
      kConverge));
  EXPECT_TRUE(logs_[0].Contains("event=frame_dropped peer=n1 size=15 reason=\"bad magic byte"));
  EXPECT_TRUE(logs_[0].Contains("3 message parts, expected 2"));
  EXPECT_TRUE(logs_[0].Contains("size=1048739 reason=\"frame of 1048739 bytes exceeds the limit"));
  EXPECT_TRUE(buses_[0]->IsAlive("n1"));  // the real n1 is unaffected
}

TEST(MsgcBusOptionsTest, RejectsBadOptions) {
  BusOptions options = testing::TestOptions(2, 0, 4809, nullptr);
  EXPECT_TRUE(ValidateBusOptions(options).ok());
  BusOptions bad = options;
  bad.self = "N0";
  EXPECT_THAT(ValidateBusOptions(bad).message(), ::testing::HasSubstr("[a-z0-9_.-]"));
  bad = options;
  bad.self = "n7";
  EXPECT_THAT(ValidateBusOptions(bad).message(), ::testing::HasSubstr("not listed"));
  bad = options;
  bad.dead_timeout = std::chrono::milliseconds(200);
  EXPECT_THAT(ValidateBusOptions(bad).message(), ::testing::HasSubstr("3 heartbeat"));
  bad = options;
  bad.peers["n1"] = "";
  EXPECT_FALSE(ValidateBusOptions(bad).ok());
  bad = options;
  bad.curve.secret_key_file = "/x";
  EXPECT_THAT(ValidateBusOptions(bad).message(), ::testing::HasSubstr("public keys"));
}

TEST(MsgcBusCreateTest, AddressInUseIsAnError) {
  TestLoop loop;
  const uint16_t port = FreePortOnLoopbacks(1);
  auto first = Bus::Create(loop.base(), TestOptions(1, 0, port, nullptr));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Bus::Create(loop.base(), TestOptions(1, 0, port, nullptr));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr("127.0.0.2:"));
}

}  // namespace
}  // namespace ec::msgc
