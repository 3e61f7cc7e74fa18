// CURVE on the bus: peers with committed public keys talk; a node running with a key that is
// not the one committed for it is refused by the ZAP handler, logged, and never joins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "msgc/bus.h"
#include "msgc/curve_keys.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::msgc {
namespace {

using ::ec::msgc::testing::FreePortOnLoopbacks;
using ::ec::msgc::testing::LogCollector;
using ::ec::msgc::testing::TestLoop;
using ::ec::msgc::testing::TestOptions;
namespace fs = std::filesystem;

using ::ec::msgc::testing::kConverge;

class MsgcBusCurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "msgc_curve.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "global" / "msgc_keys");
  }
  void TearDown() override {
    buses_.clear();
    fs::remove_all(root_);
  }
  // Makes node i's key pair in its etc/ and commits the public half to global/msgc_keys.
  KeyPair MakeNodeKeys(int i) {
    fs::create_directories(root_ / ("n" + std::to_string(i)) / "etc");
    auto pair = LoadOrCreateKeyPair(SecretPath(i), PublicPath(i));
    EC_CHECK(pair.ok());
    return *pair;
  }
  std::string SecretPath(int i) const {
    return (root_ / ("n" + std::to_string(i)) / "etc" / "msgc.key").string();
  }
  std::string PublicPath(int i) const {
    return (root_ / "global" / "msgc_keys" / ("n" + std::to_string(i) + ".pub")).string();
  }
  void StartNode(int count, int i) {
    BusOptions options = TestOptions(count, i, port_, logs_[i].Fn());
    options.curve.secret_key_file = SecretPath(i);
    options.curve.public_key_dir = (root_ / "global" / "msgc_keys").string();
    auto bus = Bus::Create(loop_.base(), std::move(options));
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    buses_.push_back(std::move(bus).value());
  }

  fs::path root_;
  TestLoop loop_;
  uint16_t port_ = FreePortOnLoopbacks(3);
  LogCollector logs_[3];
  std::vector<std::unique_ptr<Bus>> buses_;
};

TEST_F(MsgcBusCurveTest, KnownKeysTalkAndAnImpostorIsRefused) {
  for (int i = 0; i < 3; ++i) MakeNodeKeys(i);
  // n2 loses its key and makes a new one; the repository still holds the old public key.
  fs::remove(SecretPath(2));
  ASSERT_TRUE(LoadOrCreateKeyPair(SecretPath(2), "").ok());
  for (int i = 0; i < 3; ++i) StartNode(3, i);

  std::vector<std::string> got;
  buses_[1]->SetHandler("ec_config", [&](const Message& m) { got.push_back(m.payload); });
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        return buses_[0]->IsAlive("n1") && buses_[1]->IsAlive("n0") &&
               buses_[0]->refused_peers() > 0 && buses_[1]->refused_peers() > 0;
      },
      kConverge));
  ASSERT_TRUE(buses_[0]->Whisper("n1", "ec_config", "encrypted hello").ok());
  ASSERT_TRUE(loop_.RunUntil([&] { return !got.empty(); }, kConverge));
  EXPECT_EQ(got[0], "encrypted hello");

  EXPECT_TRUE(logs_[0].Contains("event=peer_refused address=127.0.0.4"));
  EXPECT_TRUE(logs_[0].Contains("reason=\"unknown public key\""));
  EXPECT_TRUE(logs_[2].Contains("event=own_key_mismatch peer=n2"));
  // Both ends of each refused link say why.
  ASSERT_TRUE(loop_.RunUntil(
      [&] {
        return logs_[2].Contains("event=link_refused peer=n0 reason=\"peer refused our key") &&
               logs_[0].Contains(
                   "event=link_refused peer=n2 reason=\"handshake failed (the peer does "
                   "not hold the key");
      },
      kConverge));
  EXPECT_TRUE(buses_[0]->LinkUp("n1"));
  EXPECT_FALSE(buses_[0]->LinkUp("n2"));
  // Neither side ever hears the other.
  EXPECT_EQ(buses_[0]->view().Find("n2")->state, PeerState::kConnecting);
  EXPECT_EQ(buses_[1]->view().Find("n2")->state, PeerState::kConnecting);
  EXPECT_EQ(buses_[2]->view().Find("n0")->state, PeerState::kConnecting);
  EXPECT_EQ(buses_[0]->stats().foreign_dropped, 0u);
}

TEST_F(MsgcBusCurveTest, PeerWithoutCommittedKeyIsLeftOutAndLogged) {
  MakeNodeKeys(0);
  MakeNodeKeys(1);
  StartNode(3, 0);  // n2 is configured but has no key in the repository yet
  StartNode(3, 1);
  ASSERT_TRUE(loop_.RunUntil([&] { return buses_[0]->IsAlive("n1"); }, kConverge));
  EXPECT_TRUE(logs_[0].Contains("event=peer_key_missing peer=n2"));
  EXPECT_EQ(buses_[0]->Whisper("n2", "g", "x").code(), StatusCode::kUnavailable);
}

TEST_F(MsgcBusCurveTest, WorldReadableSecretKeyIsRefusedAtStart) {
  MakeNodeKeys(0);
  fs::permissions(SecretPath(0), fs::perms::others_read, fs::perm_options::add);
  BusOptions options = TestOptions(1, 0, port_, logs_[0].Fn());
  options.curve.secret_key_file = SecretPath(0);
  options.curve.public_key_dir = (root_ / "global" / "msgc_keys").string();
  auto bus = Bus::Create(loop_.base(), std::move(options));
  ASSERT_FALSE(bus.ok());
  EXPECT_EQ(bus.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(bus.status().message(), ::testing::HasSubstr("chmod 600"));
}

}  // namespace
}  // namespace ec::msgc
