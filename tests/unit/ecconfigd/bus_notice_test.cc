// ecconfigd on the bus: a ConfigServer wired to a RevisionAnnouncer, and a plain bus peer that
// joined ec_config. The peer hears the current head, then the new head after a push, on a real
// ZeroMQ bus over 127.0.0.2/127.0.0.3. Also LoadBusOptions on msgc_server.conf files.
// The msgc headers first: see ecconfigd/bus_notice.h.
#include "tests/unit/msgc/bus_test_util.h"
// clang-format off
#include "ecconfigd/bus_notice.h"
// clang-format on

#include <gtest/gtest.h>

#include <vector>

#include "common/event/event_base.h"
#include "ecconfigd/git_handles.h"
#include "ecconfigd/repo.h"
#include "ecconfigd/server.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {
namespace fs = std::filesystem;
using test::Sh;
using test::WriteFile;

class BusNoticeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("ecconfigd_bus");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(BusNoticeTest, PeerHearsTheHeadAndEachNewRevision) {
  WriteFile(dir_ / "seed/default/ecelerity.conf", "spool_mode = \"0640\"\n");
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  msgc::testing::LogCollector logs;
  const uint16_t port = msgc::testing::FreePortOnLoopbacks(2);
  auto announcer = RevisionAnnouncer::Create(
      **base, msgc::testing::TestOptions(2, 0, port, logs.Fn()), std::chrono::milliseconds(300));
  ASSERT_TRUE(announcer.ok()) << announcer.status().ToString();
  auto peer = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(2, 1, port, logs.Fn()));
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  std::vector<std::string> heard;
  (*peer)->SetHandler(kConfigGroup, [&heard](const msgc::Message& m) {
    if (m.sender == "n0") heard.push_back(m.payload);
  });
  ASSERT_TRUE((*peer)->Join(kConfigGroup).ok());

  ServerOptions options;
  options.state_dir = dir_ / "state";
  options.seed_dir = dir_ / "seed";
  options.port = 0;
  options.on_revision = [&announcer](const std::string& subcluster, const git_oid& head) {
    (*announcer)->Announce(subcluster, head);
  };
  auto server = ConfigServer::Start((*base)->get(), options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  fs::path repo_path = dir_ / "state/default.git";
  std::string first = Sh("git --git-dir " + repo_path.string() + " rev-parse main").output;
  first = first.substr(0, 40);
  ASSERT_EQ(first.size(), 40u);

  // Heard at the latest on the first repeat after the link is up.
  auto heard_now = [&heard](const std::string& hex) {
    return !heard.empty() && heard.back() == hex;
  };
  ASSERT_TRUE((*base)->RunUntil([&] { return heard_now(first); }, std::chrono::seconds(10)))
      << "the peer never heard " << first;

  // A push by stock git (another process, as far as the server knows).
  fs::path clone = dir_ / "clone";
  ASSERT_EQ(Sh("git clone -q " + repo_path.string() + " " + clone.string()).exit_code, 0);
  WriteFile(clone / "default/ecelerity.conf", "spool_mode = \"0600\"\n");
  ASSERT_EQ(Sh("cd " + clone.string() +
               " && git -c user.name=t -c user.email=t@t commit -qam next && git push -q origin "
               "HEAD:main")
                .exit_code,
            0);
  std::string second = Sh("git -C " + clone.string() + " rev-parse HEAD").output.substr(0, 40);
  ASSERT_NE(first, second);
  auto pushed = std::chrono::steady_clock::now();
  ASSERT_TRUE((*base)->RunUntil([&] { return heard_now(second); }, std::chrono::seconds(10)))
      << "the peer never heard " << second;
  auto latency = std::chrono::steady_clock::now() - pushed;
  // The server looks for new heads every 200 ms; the notice itself is one frame.
  EXPECT_LT(latency, std::chrono::seconds(2));
  EXPECT_GE((*announcer)->notices_sent(), 2u);
  for (const std::string& payload : heard) EXPECT_TRUE(payload == first || payload == second);
  server->reset();
}

TEST_F(BusNoticeTest, LoadBusOptionsReadsMsgcServerConf) {
  WriteFile(dir_ / "global/msgc_server.conf",
            "msgc_server {\n  peers = [\n    manager = \"127.0.0.1\"\n    node1 = \"127.0.0.2\"\n"
            "  ]\n  port = 4900\n}\n");
  auto options = LoadBusOptions(dir_ / "global/msgc_server.conf", "manager", dir_ / "msgc.key");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->self, "manager");
  EXPECT_EQ(options->port, 4900);
  EXPECT_EQ(options->peers.at("node1"), "127.0.0.2");
  EXPECT_EQ(options->peers.size(), 2u);
  // CURVE as for every member: our key pair is made on first start, its public half beside
  // msgc_server.conf for the repository.
  EXPECT_EQ(options->curve.secret_key_file, (dir_ / "msgc.key").string());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "msgc.key"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "global/msgc_keys/manager.pub"));

  EXPECT_EQ(LoadBusOptions(dir_ / "global/msgc_server.conf", "stranger", dir_ / "msgc.key")
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(LoadBusOptions(dir_ / "missing.conf", "manager", dir_ / "msgc.key").status().code(),
            StatusCode::kNotFound);
  WriteFile(dir_ / "bad.conf",
            "msgc_server {\n  peers = [ manager = \"127.0.0.1\" ]\n  bogus = 1\n}\n");
  auto bad = LoadBusOptions(dir_ / "bad.conf", "manager", dir_ / "msgc.key");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.conf:3"), std::string::npos) << bad.status().message();
  WriteFile(dir_ / "empty.conf", "msgc_server {\n}\n");
  EXPECT_EQ(LoadBusOptions(dir_ / "empty.conf", "manager", dir_ / "msgc.key").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ec::ecconfigd
