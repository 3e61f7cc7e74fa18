// ClusterModule against a real bus peer (n0, standing in for eccmgr and ecconfigd) on
// 127.0.0.2..: relayed console commands, health records, config notices running eccfg.
#include "mta/cluster/cluster_module.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/config/loader.h"
#include "common/event/timer.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::mta::cluster {
namespace {

using std::chrono::milliseconds;

class ClusterModuleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = event::EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("cluster-module-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // Stands in for eccfg: records how it was called.
    const auto eccfg = dir_ / "eccfg";
    std::ofstream(eccfg) << "#!/bin/sh\necho \"$@\" >> " << (dir_ / "pulls.txt").string() << "\n";
    ::chmod(eccfg.c_str(), 0755);

    const uint16_t port = msgc::testing::FreePortOnLoopbacks(2);
    const std::string text =
        "msgc_server { peers = [ n0 = \"127.0.0.2\" n1 = \"127.0.0.3\" ] port = " +
        std::to_string(port) +
        " heartbeat_interval = 0.1 dead_timeout = 0.6 health_report_interval = 0.2"
        " curve = false }\ncluster { control_peers = ( n0 ) eccfg_path = \"" +
        eccfg.string() + "\" }\n";
    config_text_ = text;
    config_ = Parse(text);
    ASSERT_NE(config_, nullptr);

    ASSERT_TRUE(
        commands_
            .RegisterSync("echo", "echo",
                          [](const control::Request& r) -> Result<std::string> { return r.args; })
            .ok());
    ASSERT_TRUE(commands_
                    .Register("later", "answers from a timer",
                              [this](const control::Request&, control::Reply reply) {
                                later_ = std::make_unique<event::Timer>(
                                    *base_, [reply] { reply.Ok("done later"); });
                                later_->Start(milliseconds(50));
                              })
                    .ok());

    auto peer = msgc::Bus::Create(base_->get(), msgc::testing::TestOptions(2, 0, port, log_.Fn()));
    ASSERT_TRUE(peer.ok()) << peer.status().ToString();
    peer_ = std::move(peer).value();
    ASSERT_TRUE(peer_->Join(std::string(msgc::kHealthGroup)).ok());
    peer_->SetHandler(std::string(msgc::kHealthGroup), [this](const msgc::Message& m) {
      auto r = msgc::ParseHealthRecord(m.payload);
      if (r.ok()) records_.push_back(*r);
    });

    StartModule();
  }

  // module_ on config_, once n0 is linked to it and sees it in its console and config groups.
  void StartModule() {
    auto module = ClusterModule::Create(*base_, *config_, Options());
    ASSERT_TRUE(module.ok()) << module.status().ToString();
    module_ = std::move(module).value();
    ASSERT_TRUE(base_->RunUntil(
        [this] {
          const msgc::Member* m = peer_->view().Find("n1");
          return peer_->LinkUp("n1") && m && m->groups.count("ec_console") &&
                 m->groups.count("ec_config");
        },
        milliseconds(5000)));
  }
  void TearDown() override {
    module_.reset();
    peer_.reset();
    later_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::shared_ptr<const config::Config> Parse(const std::string& text) {
    config::LoadOptions load;
    load.allow_includes = false;
    config::Diagnostics diags;
    auto config = config::ParseConfigString(text, "test.conf", load, &diags);
    return config::HasErrors(diags) ? nullptr : config;
  }
  ClusterModuleOptions Options() {
    ClusterModuleOptions options;
    options.node_name = "n1";
    options.root = (dir_ / "root").string();
    options.commands = &commands_;
    options.counters = [] { return NodeCounters{.received = 5, .queue_size = 2}; };
    // Called on base_'s loop, which runs on the test's thread.
    options.on_accounting = [this](const control::AccountingEvent& e) { accounted_.push_back(e); };
    return options;
  }

  Result<std::string> Ask(const std::string& group, const std::string& payload) {
    std::optional<Result<std::string>> answer;
    peer_->Request("n1", group, payload, milliseconds(2000),
                   [&answer](Result<std::string> r) { answer = std::move(r); });
    base_->RunUntil([&] { return answer.has_value(); }, milliseconds(5000));
    if (!answer) return Internal("no callback");
    return *answer;
  }
  std::string Pulls() {
    std::ifstream in(dir_ / "pulls.txt");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::unique_ptr<event::EventBase> base_;
  std::filesystem::path dir_;
  std::shared_ptr<const config::Config> config_;
  control::CommandRegistry commands_;
  msgc::testing::LogCollector log_;
  std::unique_ptr<msgc::Bus> peer_;
  std::unique_ptr<ClusterModule> module_;
  std::unique_ptr<event::Timer> later_;
  std::vector<msgc::HealthRecord> records_;
  std::string config_text_;
  std::vector<control::AccountingEvent> accounted_;
};

TEST_F(ClusterModuleTest, RunsRelayedCommandsThroughTheRegistry) {
  auto r = Ask("ec_console", "echo hello world");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello world");
  r = Ask("ec_console", "later");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "done later");
  r = Ask("ec_console", "cluster nodename");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "n1\n");
  r = Ask("ec_console", "cluster membership");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("n0 "), std::string::npos) << *r;
  EXPECT_NE(r->find("ALIVE"), std::string::npos) << *r;
  r = Ask("ec_console", "no such thing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("unknown command: no such thing"), std::string::npos);
}

// Each relayed command is reported for the acctlog's Z record: allowed from a control peer,
// refused from any other member.
TEST_F(ClusterModuleTest, RelayedCommandsAreReportedForTheAcctlog) {
  ASSERT_TRUE(Ask("ec_console", "echo hi").ok());
  ASSERT_EQ(accounted_.size(), 1u);
  EXPECT_EQ(accounted_[0].kind, control::AccountingEvent::Kind::kAuthorization);
  EXPECT_EQ(accounted_[0].listener, "msgc:ec_console");
  EXPECT_EQ(accounted_[0].peer, "127.0.0.2");
  EXPECT_EQ(accounted_[0].user, "msgc:n0");
  EXPECT_TRUE(accounted_[0].allowed);
  EXPECT_EQ(accounted_[0].command, "echo");
  EXPECT_FALSE(Ask("ec_console", "no such thing").ok());
  EXPECT_EQ(accounted_.size(), 1u) << "an unknown command is no authorization";

  // Now n0 is not a control peer: refused, and reported as refused.
  module_.reset();
  ASSERT_TRUE(base_->RunUntil([this] { return !peer_->IsAlive("n1"); }, milliseconds(5000)));
  const std::string from = "control_peers = ( n0 )";
  std::string text = config_text_;
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "control_peers = ( n1 )");
  config_ = Parse(text);  // kept for the module's lifetime, as SetUp's
  ASSERT_NE(config_, nullptr);
  StartModule();
  ASSERT_FALSE(HasFatalFailure());
  auto refused = Ask("ec_console", "echo hi");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not a control peer"), std::string::npos)
      << refused.status().ToString();
  ASSERT_EQ(accounted_.size(), 2u);
  EXPECT_EQ(accounted_[1].user, "msgc:n0");
  EXPECT_FALSE(accounted_[1].allowed);
  EXPECT_EQ(accounted_[1].command, "echo");
}

TEST_F(ClusterModuleTest, ReportsHealthPeriodicallyAndOnRequest) {
  ASSERT_TRUE(base_->RunUntil([this] { return records_.size() >= 2; }, milliseconds(5000)));
  const msgc::HealthRecord& h = records_.back();
  EXPECT_EQ(h.member, "n1");
  EXPECT_EQ(h.role, "mta");
  EXPECT_EQ(h.received, 5u);
  EXPECT_EQ(h.queue_size, 2u);
  EXPECT_EQ(h.members_known, 2u);
  EXPECT_EQ(h.members_alive, 2u);
  EXPECT_EQ(h.peers_connected, 1u);
  EXPECT_TRUE(h.unhealthy.empty());
  auto r = Ask(std::string(msgc::kHealthGroup), "");
  ASSERT_TRUE(r.ok());
  auto asked = msgc::ParseHealthRecord(*r);
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(asked->member, "n1");
}

TEST_F(ClusterModuleTest, ConfigNoticeRunsEccfgPull) {
  ASSERT_TRUE(peer_->Shout("ec_config", "not a revision").ok());
  ASSERT_TRUE(peer_->Shout("ec_config", std::string(40, 'c')).ok());
  const std::string expected = "pull --auto --root " + (dir_ / "root").string() + "\n";
  ASSERT_TRUE(base_->RunUntil([&] { return Pulls() == expected; }, milliseconds(5000))) << Pulls();
  auto info = Ask("ec_console", "cluster info");
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->find("Last config notice: " + std::string(40, 'c')), std::string::npos) << *info;
  ASSERT_TRUE(base_->RunUntil(
      [&] {
        auto i = Ask("ec_console", "cluster info");
        return i.ok() && i->find("Config pulls: started 1, ok 1, failed 0\n") != std::string::npos;
      },
      milliseconds(5000)));
}

// Momentum's subcluster group, from <root>/etc/cluster.boot ("default" without one): what the
// manager reads back for the aggregated logs' %{s}.
TEST_F(ClusterModuleTest, JoinsItsSubclusterGroup) {
  auto groups_of_n1 = [this] {
    const msgc::Member* m = peer_->view().Find("n1");
    return m ? m->groups : std::set<std::string>{};
  };
  EXPECT_TRUE(groups_of_n1().count("ec_sc_default"));
  module_.reset();
  std::filesystem::create_directories(dir_ / "root" / "etc");
  std::ofstream(dir_ / "root" / "etc" / "cluster.boot") << "cluster_name=east\nnode_name=n1\n";
  const ClusterModuleOptions options = Options();
  auto module = ClusterModule::Create(*base_, *config_, options);
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  module_ = std::move(module).value();
  ASSERT_TRUE(
      base_->RunUntil([&] { return groups_of_n1().count("ec_sc_east") == 1; }, milliseconds(5000)));
  EXPECT_EQ(groups_of_n1().count("ec_sc_default"), 0u);

  // A cluster.boot naming no valid subcluster stops the module with the file's name.
  module_.reset();
  std::ofstream(dir_ / "root" / "etc" / "cluster.boot") << "cluster_name=no such\n";
  auto bad = ClusterModule::Create(*base_, *config_, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cluster.boot"), std::string::npos);
}

}  // namespace
}  // namespace ec::mta::cluster
