// Bus::Reconfigure (config reload): a node added to two running members joins without the
// existing link dropping; a removed node is dropped and its frames refused; a replaced key
// refuses the old key even on an established connection; restart-only changes are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>

#include "msgc/bus.h"
#include "msgc/curve_keys.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::msgc {
namespace {

using ::ec::msgc::testing::FreePortOnLoopbacks;
using ::ec::msgc::testing::kConverge;
using ::ec::msgc::testing::LogCollector;
using ::ec::msgc::testing::TestLoop;
using ::ec::msgc::testing::TestOptions;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

class MsgcBusReconfigureTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "msgc_reload.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directories(KeyDir());
    for (int i = 0; i < 3; ++i) {
      fs::create_directories(root_ / ("n" + std::to_string(i)));
      if (curve()) {
        ASSERT_TRUE(LoadOrCreateKeyPair(SecretPath(i), PublicPath(i)).ok());
      }
    }
  }
  void TearDown() override {
    for (auto& bus : buses_) bus.reset();
    fs::remove_all(root_);
  }
  bool curve() const { return GetParam(); }
  std::string KeyDir() const { return (root_ / "msgc_keys").string(); }
  std::string SecretPath(int i) const {
    return (root_ / ("n" + std::to_string(i)) / "msgc.key").string();
  }
  std::string PublicPath(int i) const { return KeyDir() + "/n" + std::to_string(i) + ".pub"; }
  // Node i's options with nodes n0..n<count-1> configured.
  BusOptions Options(int count, int i) {
    BusOptions options = TestOptions(count, i, port_, logs_[i].Fn());
    if (curve()) {
      options.curve.secret_key_file = SecretPath(i);
      options.curve.public_key_dir = KeyDir();
    }
    return options;
  }
  void StartNode(int count, int i) {
    auto bus = Bus::Create(loop_.base(), Options(count, i));
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    buses_[i] = std::move(bus).value();
  }
  bool Alive(int i, int j) const { return buses_[i]->IsAlive("n" + std::to_string(j)); }

  fs::path root_;
  TestLoop loop_;
  uint16_t port_ = FreePortOnLoopbacks(3);
  LogCollector logs_[3];
  std::unique_ptr<Bus> buses_[3];
};

TEST_P(MsgcBusReconfigureTest, AddedNodeJoinsRemovedNodeIsDroppedLinkStaysUp) {
  StartNode(2, 0);
  StartNode(2, 1);
  ASSERT_TRUE(loop_.RunUntil([&] { return Alive(0, 1) && Alive(1, 0); }, kConverge));
  ASSERT_TRUE(loop_.RunUntil([&] { return buses_[0]->LinkUp("n1"); }, kConverge));

  // Everything n0 hears about n1 from here on, and every whisper n1 gets from n0.
  std::vector<MembershipEvent> events_on_n0;
  buses_[0]->SetMembershipHandler(
      [&](const MembershipEvent& e, const View&) { events_on_n0.push_back(e); });
  std::vector<uint64_t> sequences;
  buses_[1]->SetHandler("g", [&](const Message& m) { sequences.push_back(m.sequence); });
  int sent = 0;
  bool link_dropped = false;
  // Each check: the n0->n1 link is still up, and one more whisper goes over it.
  auto traffic = [&] {
    if (!buses_[0]->LinkUp("n1")) link_dropped = true;
    if (buses_[0]->Whisper("n1", "g", "w").ok()) ++sent;
  };

  ASSERT_TRUE(buses_[0]->Reconfigure(Options(3, 0)).ok());
  ASSERT_TRUE(buses_[1]->Reconfigure(Options(3, 1)).ok());
  EXPECT_TRUE(logs_[0].Contains("event=bus_reconfigured node=n0 added=n2 removed=- relinked=-"));
  ASSERT_EQ(buses_[0]->view().Find("n2")->state, PeerState::kConnecting);
  StartNode(3, 2);
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        traffic();
        return Alive(0, 2) && Alive(1, 2) && Alive(2, 0) && Alive(2, 1);
      },
      kConverge));

  // Remove n2 again; it keeps running and sending.
  const uint64_t foreign_before = buses_[0]->stats().foreign_dropped;
  ASSERT_TRUE(buses_[0]->Reconfigure(Options(2, 0)).ok());
  ASSERT_TRUE(buses_[1]->Reconfigure(Options(2, 1)).ok());
  EXPECT_EQ(buses_[0]->view().Find("n2"), nullptr);
  EXPECT_EQ(buses_[1]->view().Find("n2"), nullptr);
  EXPECT_FALSE(buses_[0]->LinkUp("n2"));
  EXPECT_EQ(buses_[0]->Whisper("n2", "g", "x").code(), StatusCode::kUnavailable);
  // Its frames (on the connection it still holds, or a new one) are refused from now on.
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        traffic();
        return curve() ? buses_[0]->refused_peers() > 0 ||
                             buses_[0]->stats().foreign_dropped > foreign_before + 2
                       : buses_[0]->stats().foreign_dropped > foreign_before + 2;
      },
      kConverge));
  EXPECT_EQ(buses_[0]->view().Find("n2"), nullptr);
  if (!curve()) {
    // Its refused frames are logged at the 1st, 2nd, 4th... only, not one line per heartbeat.
    ASSERT_TRUE(loop_.RunUntil(
        [&] {
          traffic();
          return buses_[0]->stats().foreign_dropped > foreign_before + 16;
        },
        kConverge));
    size_t lines = 0;
    for (const std::string& l : logs_[0].Lines()) {
      lines += l.find("event=frame_dropped peer=n2") != std::string::npos;
    }
    const uint64_t dropped = buses_[0]->stats().foreign_dropped - foreign_before;
    EXPECT_GE(lines, 1u);
    EXPECT_LE(lines, 1u + std::bit_width(dropped));
  }
  ASSERT_TRUE(loop_.RunUntil([&] { return !Alive(2, 0) && !Alive(2, 1); }, kConverge));

  // n2 left with one DEAD("removed"); n1 never had an event; the link never went down.
  std::vector<MembershipEvent> about_n1, about_n2;
  for (const auto& e : events_on_n0) (e.peer == "n1" ? about_n1 : about_n2).push_back(e);
  EXPECT_TRUE(about_n1.empty());
  ASSERT_FALSE(about_n2.empty());
  EXPECT_EQ(about_n2.back().kind, MembershipEvent::Kind::kDead);
  EXPECT_EQ(about_n2.back().reason, "removed");
  EXPECT_FALSE(link_dropped);
  // n1 got every whisper, in order, with no sequence gap on the n0 stream.
  ASSERT_TRUE(
      loop_.RunUntil([&] { return static_cast<int>(sequences.size()) == sent; }, kConverge));
  EXPECT_GT(sent, 5);
  for (size_t i = 1; i < sequences.size(); ++i) EXPECT_GT(sequences[i], sequences[i - 1]);
  EXPECT_EQ(buses_[1]->stats().sequence_gaps, 0u);
}

TEST_P(MsgcBusReconfigureTest, RestartOnlyChangesAreRefusedAndTheBusKeepsRunning) {
  StartNode(2, 0);
  StartNode(2, 1);
  ASSERT_TRUE(loop_.RunUntil([&] { return Alive(0, 1) && Alive(1, 0); }, kConverge));

  BusOptions port = Options(2, 0);
  port.port = static_cast<uint16_t>(port_ + 1);
  Status refused = buses_[0]->Reconfigure(port);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("port needs a restart"));

  BusOptions timers = Options(3, 0);  // n2 added too, but the whole change is refused
  timers.heartbeat_interval *= 2;
  timers.peers["n0"] = "127.0.0.9";
  refused = buses_[0]->Reconfigure(timers);
  EXPECT_THAT(refused.message(),
              HasSubstr("changing this node's address,heartbeat_interval needs a restart"));
  EXPECT_EQ(buses_[0]->view().Find("n2"), nullptr);
  EXPECT_EQ(buses_[0]->options().port, port_);

  BusOptions live = Options(2, 0);
  live.view_mature_time = std::chrono::milliseconds(1);
  ASSERT_TRUE(buses_[0]->Reconfigure(live).ok());
  EXPECT_EQ(buses_[0]->options().view_mature_time, std::chrono::milliseconds(1));
  const uint64_t heard = buses_[1]->stats().frames_received;
  ASSERT_TRUE(
      loop_.RunUntil([&] { return buses_[1]->stats().frames_received > heard + 3; }, kConverge));
  EXPECT_TRUE(Alive(0, 1) && Alive(1, 0));
}

INSTANTIATE_TEST_SUITE_P(PlainAndCurve, MsgcBusReconfigureTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Curve" : "Plain"; });

// A connected peer whose committed key is replaced: ZeroMQ keeps the connection it authenticated
// with the old key, but the bus refuses its frames from the reload on; the node restarted with
// the new key joins.
class MsgcBusRekeyTest : public MsgcBusReconfigureTest {};

TEST_P(MsgcBusRekeyTest, ReplacedKeyIsRefusedOnTheOpenConnectionAndTheNewKeyAccepted) {
  for (int i = 0; i < 3; ++i) StartNode(3, i);
  ASSERT_TRUE(loop_.RunUntil([&] { return Alive(0, 2) && Alive(2, 0) && Alive(0, 1); }, kConverge));
  // n2 gets a new key pair (to start with later); the repository now holds its new public key.
  const std::string new_secret = (root_ / "n2" / "msgc.key.new").string();
  auto pair = LoadOrCreateKeyPair(new_secret, "");
  ASSERT_TRUE(pair.ok());
  fs::remove(PublicPath(2));
  ASSERT_TRUE(WritePublicKeyFile(PublicPath(2), pair->public_key).ok());

  const uint64_t foreign_before = buses_[0]->stats().foreign_dropped;
  ASSERT_TRUE(buses_[0]->Reconfigure(Options(3, 0)).ok());
  EXPECT_TRUE(logs_[0].Contains("relinked=n2"));
  // The old n2 still sends on its authenticated connection: refused, so it times out.
  ASSERT_TRUE(loop_.RunUntil([&] { return !Alive(0, 2); }, kConverge));
  EXPECT_GT(buses_[0]->stats().foreign_dropped, foreign_before);
  EXPECT_TRUE(Alive(0, 1));
  EXPECT_TRUE(Alive(1, 2));  // n1 was not reloaded yet

  // n2 restarts with the new key (same secret file path as configured).
  buses_[2].reset();
  fs::rename(new_secret, SecretPath(2));
  StartNode(3, 2);
  ASSERT_TRUE(loop_.RunUntil([&] { return Alive(0, 2) && Alive(2, 0); }, kConverge));
}

INSTANTIATE_TEST_SUITE_P(Curve, MsgcBusRekeyTest, ::testing::Values(true));

}  // namespace
}  // namespace ec::msgc
