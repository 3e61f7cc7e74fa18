// SharedReplication over three real buses on 127.0.0.2-4 (n0, n1, n2), each node on its own
// event loop so one can be frozen like a killed process (no goodbye: the others declare it dead
// after dead_timeout). Checked all along: the claims of the live nodes (max of usage and grant)
// never sum past the limit. Also: a node alone without a bus grants itself the limit; the
// ClusterModule's dispatch; the console commands (the member set: limit_members_test.cc).
#include "mta/cluster/shared_replication.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "mta/cluster/cluster_module.h"

#include "tests/unit/common/config/test_util.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::mta::cluster {
namespace {

using outbound::LimitScope;
using std::chrono::milliseconds;

constexpr char kReplicationConfig[] = R"(cluster {
  Replicate "outbound_domains" { max_delay = 0.05 }
}
Domain "a.test" {
  cluster_max_outbound_connections = 4
}
)";
const std::string kKeyA = "outbound_domains/a.test";
constexpr uint64_t kLimit = 4;
const LimitScope kScope{.binding = "", .binding_group = "", .domain = "a.test", .host = ""};

std::shared_ptr<const config::Config> TestConfig() {
  config::Diagnostics diags;
  auto config = config::testing::Parse(kReplicationConfig, &diags);
  EC_CHECK(config != nullptr);
  return config;
}

struct BusNode {
  std::unique_ptr<event::EventBase> base;
  std::unique_ptr<SharedLimits> limits;
  std::unique_ptr<SharedReplication> replication;
  std::unique_ptr<msgc::Bus> bus;
  std::vector<std::unique_ptr<outbound::LimitLease>> leases;
  bool frozen = false;

  uint64_t Held() {
    auto f = limits->FiguresOf(kKeyA);
    return f ? f->held : 0;
  }
  uint64_t Usage() { return leases.size(); }
  // Takes connections up to `n` while the grant allows.
  void TakeUpTo(size_t n) {
    while (leases.size() < n) {
      auto l = limits->AcquireConnection(kScope);
      if (!l) return;
      leases.push_back(std::move(l));
    }
  }
};

class SharedReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = TestConfig();
    port_ = msgc::testing::FreePortOnLoopbacks(3);
    for (int i = 0; i < 3; ++i) nodes_.push_back(MakeNode(i));
    ASSERT_TRUE(RunUntil([this] {
      for (BusNode& n : nodes_) {
        if (n.replication->leader() != "n0") return false;
      }
      return true;
    }, milliseconds(10000)));
  }
  void TearDown() override {
    for (BusNode& n : nodes_) {
      n.leases.clear();
      n.replication.reset();
      n.bus.reset();
      n.limits.reset();
    }
  }

  BusNode MakeNode(int i) {
    BusNode n;
    n.base = std::move(event::EventBase::Create()).value();
    n.limits = std::make_unique<SharedLimits>(config_, SharedLimitsOptions{.base = n.base.get()});
    n.replication = std::make_unique<SharedReplication>(
        *n.base, *n.limits,
        SharedReplicationOptions{.self = "n" + std::to_string(i),
                                 .standalone = false,
                                 .specs = ReadReplicateScopes(*config_),
                                 .refresh_interval = milliseconds(500)});
    auto bus = msgc::Bus::Create(n.base->get(),
                                 msgc::testing::TestOptions(3, i, port_, log_.Fn()));
    EC_CHECK(bus.ok());
    n.bus = std::move(bus).value();
    SharedReplication* r = n.replication.get();
    n.bus->SetHandler("ec_cluster", [r](const msgc::Message& m) { (void)r->OnMessage(m); });
    n.bus->SetMembershipHandler(
        [r](const msgc::MembershipEvent& e, const msgc::View&) { r->OnMembership(e); });
    EC_CHECK(n.bus->Join("ec_cluster").ok());
    n.replication->AttachBus(n.bus.get(), "ec_cluster", {});
    return n;
  }

  // Runs every live node's loop until `done`, checking the bound after each turn.
  bool RunUntil(const std::function<bool()>& done, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (BusNode& n : nodes_) {
        if (!n.frozen) event_base_loop(n.base->get(), EVLOOP_NONBLOCK);
      }
      CheckBound();
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return done();
  }
  void RunFor(milliseconds d) { RunUntil([] { return false; }, d); }

  // Claims of the nodes that are up never sum past the limit; nobody holds more than its grant
  // unless its grant fell below what it held (it then only closes).
  void CheckBound() {
    uint64_t claims = 0;
    for (BusNode& n : nodes_) {
      if (!n.frozen) claims += std::max(n.Usage(), n.Held());
    }
    EXPECT_LE(claims, kLimit) << "claims " << claims;
    ASSERT_FALSE(HasFailure()) << Describe();
  }
  std::string Describe() {
    std::string out;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      out += " n" + std::to_string(i) + ": usage " + std::to_string(nodes_[i].Usage()) +
             " held " + std::to_string(nodes_[i].Held());
    }
    return out;
  }
  void Freeze(int i) { nodes_[i].frozen = true; }

  std::shared_ptr<const config::Config> config_;
  uint16_t port_ = 0;
  msgc::testing::LogCollector log_;
  std::vector<BusNode> nodes_;
};

TEST_F(SharedReplicationTest, OneNodeWithAllTheMailGetsTheWholeLimit) {
  BusNode& n1 = nodes_[1];
  n1.limits->SetBacklog(kScope, 100);
  EXPECT_EQ(n1.limits->AcquireConnection(kScope), nullptr);  // nothing granted yet
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == kLimit; }, milliseconds(3000))) << Describe();
  n1.TakeUpTo(10);
  EXPECT_EQ(n1.Usage(), kLimit);
  // Everyone sees the figures; the leader logged nothing odd.
  ASSERT_TRUE(RunUntil([&] { return nodes_[0].replication->table().TotalUsage(kKeyA) == kLimit &&
                                    nodes_[2].replication->table().TotalUsage(kKeyA) == kLimit; },
                       milliseconds(3000)));
  auto shown = nodes_[2].replication->Show({"outbound_domains"});
  ASSERT_TRUE(shown.ok());
  EXPECT_NE(shown->find("outbound_domains/a.test limit 4 cluster usage 4"), std::string::npos)
      << *shown;
  EXPECT_NE(shown->find("n1 usage 4 demand 4 grant 4 leader n0"), std::string::npos) << *shown;
  auto from = nodes_[2].replication->Show({kKeyA, "from", "n1"});
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->find("n2 "), std::string::npos) << *from;
  EXPECT_FALSE(nodes_[2].replication->Show({"nothing.test"}).ok());
  const std::string list = nodes_[0].replication->List();
  EXPECT_NE(list.find("Replicate \"outbound_domains\" type outbound_domains max_delay 0.050 s "
                      "keys 1\n  outbound_domains/a.test limit 4 cluster usage 4\n"),
            std::string::npos)
      << list;
  const std::string stats = nodes_[0].replication->Stats();
  EXPECT_NE(stats.find("Leader: n0 (this node)"), std::string::npos) << stats;
  EXPECT_NE(stats.find("Replication lag: p50"), std::string::npos) << stats;
}

TEST_F(SharedReplicationTest, TheOtherGetsUnitsOnlyAfterTheFirstGaveThemUp) {
  BusNode& n1 = nodes_[1];
  BusNode& n2 = nodes_[2];
  n1.limits->SetBacklog(kScope, 100);
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == kLimit; }, milliseconds(3000))) << Describe();
  n1.TakeUpTo(kLimit);
  n2.limits->SetBacklog(kScope, 100);
  // The decrease comes at once; n1 closes as transactions end (OverShare).
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == 2; }, milliseconds(3000))) << Describe();
  EXPECT_TRUE(n1.limits->OverShare(kScope));
  RunFor(milliseconds(500));
  EXPECT_EQ(n2.Held(), 0u) << "n1 still holds 4 connections";
  n1.leases.resize(3);
  ASSERT_TRUE(RunUntil([&] { return n2.Held() == 1; }, milliseconds(3000))) << Describe();
  n1.leases.resize(2);
  ASSERT_TRUE(RunUntil([&] { return n2.Held() == 2; }, milliseconds(3000))) << Describe();
  EXPECT_FALSE(n1.limits->OverShare(kScope));
  n2.TakeUpTo(10);
  EXPECT_EQ(n2.Usage(), 2u);
  // n1's mail is gone: n2 gets it all once n1's connections close.
  n1.limits->SetBacklog(kScope, 0);
  n1.leases.clear();
  ASSERT_TRUE(RunUntil([&] { return n2.Held() == kLimit; }, milliseconds(3000))) << Describe();
}

TEST_F(SharedReplicationTest, SurvivorsTakeOverTheShareOfAKilledNode) {
  BusNode& n1 = nodes_[1];
  BusNode& n2 = nodes_[2];
  n1.limits->SetBacklog(kScope, 100);
  n2.limits->SetBacklog(kScope, 100);
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == 2 && n2.Held() == 2; }, milliseconds(3000)))
      << Describe();
  n2.TakeUpTo(2);
  Freeze(2);  // kill -9: its connections die with it, nobody hears from it again
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == kLimit; }, milliseconds(5000))) << Describe();
  EXPECT_TRUE(log_.Contains("n2"));
}

TEST_F(SharedReplicationTest, ANewLeaderTakesOverAndTheMinorityHoldsItsStaticShare) {
  BusNode& n1 = nodes_[1];
  BusNode& n2 = nodes_[2];
  n1.limits->SetBacklog(kScope, 100);
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == kLimit; }, milliseconds(3000))) << Describe();
  Freeze(0);  // the leader
  ASSERT_TRUE(RunUntil([&] { return n1.replication->leader() == "n1" &&
                                    n2.replication->leader() == "n1"; },
                       milliseconds(5000)));
  n2.limits->SetBacklog(kScope, 100);
  ASSERT_TRUE(RunUntil([&] { return n1.Held() == 2 && n2.Held() == 2; }, milliseconds(5000)))
      << Describe();
  Freeze(2);  // n1 alone of three: no quorum
  ASSERT_TRUE(RunUntil([&] { return !n1.replication->leader().has_value(); },
                       milliseconds(5000)));
  EXPECT_EQ(n1.Held(), 1u);  // floor(4 / 3)
}

uint64_t ReportsSent(SharedReplication& r) {
  const std::string stats = r.Stats();
  const size_t at = stats.find("Reports: sent ");
  EC_CHECK(at != std::string::npos);
  return std::stoull(stats.substr(at + 14));
}

TEST_F(SharedReplicationTest, ChangesGoOutAtMostEveryMaxDelay) {
  BusNode& n1 = nodes_[1];
  RunFor(milliseconds(100));
  const uint64_t before = ReportsSent(*n1.replication);
  // 300 changes in about 0.3 s: max_delay 0.05 s lets ~7 partial reports out, plus at most one
  // full one (refresh every 0.5 s).
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 300; ++i) {
    n1.limits->SetBacklog(kScope, 1 + i % 7);
    RunFor(milliseconds(1));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t sent = ReportsSent(*n1.replication) - before;
  EXPECT_GE(sent, 2u);
  EXPECT_LE(sent, static_cast<uint64_t>(secs / 0.05) + 3) << "in " << secs << " s";
  // The last figures arrive.
  ASSERT_TRUE(RunUntil([&] {
    const auto* f = nodes_[0].replication->table().Find("n1", kKeyA);
    return f && f->demand == std::min<uint64_t>(kLimit, 1 + 299 % 7);
  }, milliseconds(2000)));
}

TEST(SharedReplicationStandaloneTest, WithoutABusTheNodeGrantsItself) {
  auto base = std::move(event::EventBase::Create()).value();
  SharedLimits limits(TestConfig(), {.base = base.get()});
  SharedReplication replication(*base, limits, {.self = "solo"});
  EXPECT_EQ(replication.leader(), "solo");
  limits.SetBacklog(kScope, 3);
  ASSERT_TRUE(base->RunUntil([&] { return limits.FiguresOf(kKeyA)->held == 3; }, milliseconds(2000)));
  limits.SetBacklog(kScope, 10);
  ASSERT_TRUE(base->RunUntil([&] { return limits.FiguresOf(kKeyA)->held == kLimit; },
                             milliseconds(2000)));
  int capacity = 0;
  limits.SetOnCapacity([&capacity] { ++capacity; });
  std::vector<std::unique_ptr<outbound::LimitLease>> leases;
  for (int i = 0; i < 5; ++i) {
    if (auto l = limits.AcquireConnection(kScope)) leases.push_back(std::move(l));
  }
  EXPECT_EQ(leases.size(), kLimit);
  leases.pop_back();
  ASSERT_TRUE(base->RunUntil([&] { return capacity == 1; }, milliseconds(2000)));
}

TEST(SharedReplicationStandaloneTest, NoLeaderBeforeTheBusComes) {
  auto base = std::move(event::EventBase::Create()).value();
  SharedLimits limits(TestConfig(), {.base = base.get()});
  SharedReplication replication(*base, limits, {.self = "n1", .standalone = false});
  limits.SetBacklog(kScope, 3);
  base->RunUntil([] { return false; }, milliseconds(100));
  EXPECT_FALSE(replication.leader().has_value());
  EXPECT_EQ(limits.FiguresOf(kKeyA)->held, 0u);
}

// Through the ClusterModule: it hands the shared-limits messages of its cluster group and its
// membership events to the attached replication (n1), the rest stays DuraVIP's.
TEST(SharedReplicationClusterModuleTest, TheModuleDispatchesReportsAndGrants) {
  auto base = std::move(event::EventBase::Create()).value();
  const uint16_t port = msgc::testing::FreePortOnLoopbacks(2);
  config::Diagnostics diags;
  auto config = config::testing::Parse(
      "msgc_server { peers = [ n0 = \"127.0.0.2\" n1 = \"127.0.0.3\" ] port = " +
          std::to_string(port) +
          " heartbeat_interval = 0.1 dead_timeout = 0.6 curve = false }\n" + kReplicationConfig,
      &diags);
  ASSERT_TRUE(config) << config::testing::Messages(diags).size();
  const std::filesystem::path root = std::filesystem::path(::testing::TempDir()) /
                                     ("h3-shared-module-" + std::to_string(::getpid()));
  msgc::testing::LogCollector log;

  // n0: a bare bus with its replication (the leader: lowest name).
  SharedLimits limits0(config, {.base = base.get()});
  SharedReplication replication0(*base, limits0, {.self = "n0", .standalone = false});
  auto bus0 = std::move(msgc::Bus::Create(base->get(), msgc::testing::TestOptions(2, 0, port,
                                                                                  log.Fn())))
                  .value();
  bus0->SetHandler("ec_cluster", [&](const msgc::Message& m) {
    EXPECT_TRUE(replication0.OnMessage(m)) << m.payload;
  });
  bus0->SetMembershipHandler(
      [&](const msgc::MembershipEvent& e, const msgc::View&) { replication0.OnMembership(e); });
  ASSERT_TRUE(bus0->Join("ec_cluster").ok());
  replication0.AttachBus(bus0.get(), "ec_cluster", {});

  // n1: the ClusterModule's bus.
  control::CommandRegistry commands;
  SharedLimits limits1(config, {.base = base.get()});
  SharedReplication replication1(*base, limits1, {.self = "n1", .standalone = false});
  replication1.RegisterCommands(&commands);
  auto module = ClusterModule::Create(
      *base, *config,
      {.node_name = "n1", .root = root.string(), .commands = &commands, .eccfg_path = "true"});
  ASSERT_TRUE(module.ok()) << module.status().ToString();
  (*module)->AttachReplication(&replication1);

  limits1.SetBacklog(kScope, 10);
  ASSERT_TRUE(base->RunUntil([&] { return limits1.FiguresOf(kKeyA)->held == kLimit; },
                             milliseconds(5000)))
      << replication1.Stats();
  EXPECT_EQ(replication1.leader(), "n0");
  EXPECT_EQ(limits0.FiguresOf(kKeyA), std::nullopt);  // n0 has no mail for it
  // The console commands answer from n1's registry.
  auto match = commands.Find("cluster shared show outbound_domains/a.test");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->request.command, "cluster shared show");
  (*module)->AttachReplication(nullptr);
  module->reset();
  replication0.DetachBus();
  bus0.reset();
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ec::mta::cluster
