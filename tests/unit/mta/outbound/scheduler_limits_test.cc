// The scheduler's limits against a real spool and a counting SMTP server on 127.0.0.1: the
// OutboundLimits hooks (a fake that refuses or allows on demand), Host-scope
// max_outbound_connections and the sliding-window throttle.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/outbound/scheduler.h"
#include "tests/unit/mta/outbound/scheduler_test_util.h"
#include "tests/unit/mta/outbound/counting_smtp_server.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::outbound {
namespace {

using namespace std::chrono_literals;
using spool::QueueId;
using testing::CountingSmtpServer;

constexpr auto kLimitsDeadline = std::chrono::seconds(20);

// Records every call; each kind of unit is refused while its flag says so.
class FakeLimits : public OutboundLimits {
 public:
  class Lease : public LimitLease {
   public:
    explicit Lease(int* held) : held_(held) { ++*held_; }
    ~Lease() override { --*held_; }

   private:
    int* held_;
  };

  std::unique_ptr<LimitLease> AcquireConnection(const LimitScope& scope) override {
    connection_scopes.push_back(scope);
    if (!allow_connections) return nullptr;
    return std::make_unique<Lease>(&connections_held);
  }
  std::unique_ptr<LimitLease> AcquireHost(const LimitScope& scope) override {
    host_scopes.push_back(scope);
    if (!allow_hosts || refuse_hosts.count(scope.host)) return nullptr;
    return std::make_unique<Lease>(&hosts_held);
  }
  std::unique_ptr<LimitLease> AcquireMessage(const LimitScope&) override {
    ++message_asks;
    if (!allow_messages) return nullptr;
    ++messages_taken;
    return std::make_unique<Lease>(&messages_held);
  }
  void SetBacklog(const LimitScope& scope, size_t backlog) override {
    backlogs.emplace_back(scope.domain, backlog);
  }
  bool OverShare(const LimitScope&) override {
    ++over_share_asks;
    return over_share;
  }
  void SetOnCapacity(std::function<void()> f) override { on_capacity = std::move(f); }

  // The last backlog reported for `domain`, or -1.
  int64_t Backlog(const std::string& domain) const {
    for (auto it = backlogs.rbegin(); it != backlogs.rend(); ++it) {
      if (it->first == domain) return static_cast<int64_t>(it->second);
    }
    return -1;
  }

  bool allow_connections = true, allow_hosts = true, allow_messages = true, over_share = false;
  int connections_held = 0, hosts_held = 0, messages_held = 0, messages_taken = 0;
  int message_asks = 0, over_share_asks = 0;
  std::set<std::string> refuse_hosts;
  std::vector<LimitScope> connection_scopes, host_scopes;
  std::vector<std::pair<std::string, size_t>> backlogs;
  std::function<void()> on_capacity;
};

class SchedulerLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event::EventBase::Create().value();
    spool::SpoolOptions options = testing::LoopSpoolOptions(dir_.path(), base_.get());
    spool_ = spool::Spool::Open(options).value();
    // The server counts on its own threads: wake the loop now and then to look.
    tick_ = std::make_unique<event::Timer>(*base_, [] {});
    tick_->StartRepeating(10ms);
  }
  void TearDown() override {
    tick_.reset();
    scheduler_.reset();
    spool_.reset();
  }

  // A scheduler for `config_text`, with or without the fake cluster limits.
  void Start(const std::string& config_text, bool with_limits = true) {
    scheduler_ = testing::StartScheduler(base_.get(), spool_.get(), config_text,
                                         with_limits ? &limits_ : nullptr);
  }

  // Domain stanza routing `domain` to the server, connections idling out quickly.
  static std::string Route(const std::string& domain, const CountingSmtpServer& server,
                           const std::string& extra = "", const std::string& idle = "0.3") {
    return testing::RouteTo(domain, server.port(), extra, idle);
  }

  QueueId Accept(const std::string& rcpt) {
    const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return testing::StoreAndAdd(*base_, *spool_, *scheduler_, {rcpt}, now);
  }

  // Runs the loop for `d` (nothing is expected to end it).
  void RunFor(std::chrono::milliseconds d) { base_->RunUntil([] { return false; }, d); }

  bool RunUntil(const std::function<bool()>& done) { return base_->RunUntil(done, kLimitsDeadline); }

  spool::testing::TempDir dir_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<spool::Spool> spool_;
  FakeLimits limits_;
  std::unique_ptr<event::Timer> tick_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerLimits, RefusedConnectionWaitsUntilOnCapacity) {
  CountingSmtpServer server;
  Start(Route("lim.test", server));
  ASSERT_TRUE(limits_.on_capacity);  // set at construction
  limits_.allow_connections = false;
  for (int i = 0; i < 3; ++i) Accept("r@lim.test");
  RunFor(300ms);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(scheduler_->connections(), 0u);
  ASSERT_FALSE(limits_.connection_scopes.empty());
  const LimitScope& scope = limits_.connection_scopes.back();
  EXPECT_EQ(scope.domain, "lim.test");
  EXPECT_EQ(scope.binding, "");  // the default binding
  EXPECT_EQ(scope.binding_group, "default");
  EXPECT_EQ(limits_.Backlog("lim.test"), 3);  // all three wait for a connection

  // Refused again (no capacity yet): still waiting, and asked only once more.
  const size_t asks = limits_.connection_scopes.size();
  limits_.on_capacity();
  RunFor(100ms);
  EXPECT_EQ(limits_.connection_scopes.size(), asks + 1);
  EXPECT_EQ(server.connections(), 0u);

  limits_.allow_connections = true;
  limits_.on_capacity();
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 3; }));
  EXPECT_EQ(limits_.Backlog("lim.test"), 0);  // drained
  // The connection's lease is held while it is open and released when it closes.
  EXPECT_GE(limits_.connections_held, 1);
  ASSERT_TRUE(RunUntil([&] { return scheduler_->connections() == 0; }));
  EXPECT_EQ(limits_.connections_held, 0);
  EXPECT_EQ(limits_.hosts_held, 0);
  ASSERT_FALSE(limits_.host_scopes.empty());
  EXPECT_EQ(limits_.host_scopes.back().host, "127.0.0.1");
  EXPECT_EQ(limits_.host_scopes.back().domain, "lim.test");
}

TEST_F(SchedulerLimits, RefusedMessageStaysReadyUntilOnCapacity) {
  CountingSmtpServer server;
  Start(Route("msg.test", server, "  max_outbound_connections = 1\n", "30"));
  limits_.allow_messages = false;
  for (int i = 0; i < 2; ++i) Accept("r@msg.test");
  ASSERT_TRUE(RunUntil([&] { return limits_.message_asks > 0 && server.connections() > 0; }));
  RunFor(200ms);
  EXPECT_EQ(server.messages(), 0u);
  EXPECT_EQ(scheduler_->queued(), 2u);
  EXPECT_EQ(limits_.Backlog("msg.test"), 2);  // ready, in no connection
  EXPECT_EQ(scheduler_->stats().transient, 0u);

  limits_.allow_messages = true;
  const uint64_t opened = scheduler_->stats().connections_opened;
  limits_.on_capacity();
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 2; }));
  EXPECT_EQ(opened, 1u);
  EXPECT_EQ(scheduler_->stats().connections_opened, 1u);  // the idle connection took them
  EXPECT_EQ(limits_.Backlog("msg.test"), 0);
  // Each message's unit was held until its transaction ended.
  EXPECT_EQ(limits_.messages_taken, 2);
  EXPECT_TRUE(RunUntil([&] { return limits_.messages_held == 0; }));
}

// A message's throttle unit is held while the receiver has not answered its DATA: it enters
// the window only then (OutboundLimits::AcquireMessage).
TEST_F(SchedulerLimits, MessageLeaseIsHeldUntilTheTransactionEnds) {
  CountingSmtpServer server(300ms);
  Start(Route("slow.test", server, "  max_outbound_connections = 1\n", "30"));
  Accept("r@slow.test");
  ASSERT_TRUE(RunUntil([&] { return limits_.messages_taken == 1; }));
  EXPECT_EQ(limits_.messages_held, 1);
  EXPECT_EQ(server.messages(), 0u);
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 1 && limits_.messages_held == 0; }));
}

TEST_F(SchedulerLimits, OverShareClosesTheConnectionAfterItsTransaction) {
  CountingSmtpServer server;
  Start(Route("share.test", server, "  max_outbound_connections = 1\n", "30"));
  limits_.over_share = true;
  for (int i = 0; i < 3; ++i) Accept("r@share.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 3; }));
  ASSERT_TRUE(RunUntil([&] { return server.per_connection().size() == 3; }));
  // One message per connection, each closed with QUIT rather than reused or left idle.
  EXPECT_EQ(server.per_connection(), (std::vector<size_t>{1, 1, 1}));
  EXPECT_EQ(server.quits(), 3u);
  EXPECT_GE(limits_.over_share_asks, 3);
  ASSERT_TRUE(RunUntil([&] { return limits_.connections_held == 0; }));
}

TEST_F(SchedulerLimits, NotOverShareReusesTheConnection) {
  CountingSmtpServer server;
  Start(Route("keep.test", server, "  max_outbound_connections = 1\n"));
  for (int i = 0; i < 3; ++i) Accept("r@keep.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 3; }));
  ASSERT_TRUE(RunUntil([&] { return server.per_connection().size() == 1; }));
  EXPECT_EQ(server.per_connection(), (std::vector<size_t>{3}));
  EXPECT_GE(limits_.over_share_asks, 2);
}

TEST_F(SchedulerLimits, RefusedHostIsNotAFailureAndResumesOnCapacity) {
  CountingSmtpServer server;
  Start(Route("host.test", server));
  limits_.allow_hosts = false;
  Accept("r@host.test");
  ASSERT_TRUE(RunUntil([&] { return !limits_.host_scopes.empty(); }));
  RunFor(200ms);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(scheduler_->connections(), 0u);
  EXPECT_EQ(scheduler_->stats().connection_failures, 0u);
  EXPECT_EQ(scheduler_->stats().transient, 0u);
  EXPECT_EQ(scheduler_->queued(), 1u);
  EXPECT_EQ(limits_.connections_held, 0);  // the refused client's connection lease went too

  limits_.allow_hosts = true;
  limits_.on_capacity();
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 1; }));
  ASSERT_TRUE(RunUntil([&] { return scheduler_->connections() == 0; }));
  EXPECT_EQ(limits_.hosts_held, 0);
}

// One address refused by the cluster, the next one taken: the queue does not wait for
// on_capacity, later mail goes out at once.
TEST_F(SchedulerLimits, ARefusedHostWithAnotherAddressLeftDoesNotWait) {
  CountingSmtpServer server;
  const std::string port = std::to_string(server.port());
  Start("Domain \"two.test\" {\n  Routes = ( \"smtp://127.0.0.2:" + port +
        "?pref=10\" \"smtp://127.0.0.1:" + port + "?pref=20\" )\n  idle_timeout = 0.1\n}\n");
  limits_.refuse_hosts = {"127.0.0.2"};
  Accept("r@two.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 1; }));
  ASSERT_TRUE(RunUntil([&] { return scheduler_->connections() == 0; }));  // idled out
  Accept("r@two.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 2; }));  // no on_capacity needed
  std::set<std::string> asked;
  for (const LimitScope& s : limits_.host_scopes) asked.insert(s.host);
  EXPECT_EQ(asked, (std::set<std::string>{"127.0.0.1", "127.0.0.2"}));
  EXPECT_EQ(scheduler_->stats().connection_failures, 0u);
}

TEST_F(SchedulerLimits, NoLimitsMeansNoClusterCalls) {
  CountingSmtpServer server;
  Start(Route("free.test", server), /*with_limits=*/false);
  for (int i = 0; i < 2; ++i) Accept("r@free.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 2; }));
  EXPECT_TRUE(limits_.connection_scopes.empty());
  EXPECT_FALSE(limits_.on_capacity);
}

TEST_F(SchedulerLimits, HostScopeCapsConnectionsPerAddressAcrossDomains) {
  CountingSmtpServer server(150ms);
  Start("Host \"127.0.0.1\" { max_outbound_connections = 2 }\n" +
            Route("a.test", server, "  max_outbound_connections = 10\n") +
            Route("b.test", server, "  max_outbound_connections = 10\n"),
        /*with_limits=*/false);
  for (int i = 0; i < 8; ++i) Accept(i % 2 ? "r@a.test" : "r@b.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 8; }));
  EXPECT_EQ(server.peak(), 2u);
  EXPECT_EQ(scheduler_->stats().connection_failures, 0u);
  EXPECT_EQ(scheduler_->stats().transient, 0u);
}

TEST_F(SchedulerLimits, HostScopeInABindingCountsThatBinding) {
  CountingSmtpServer server(150ms);
  Start("Binding \"b1\" { Host \"127.0.0.1\" { max_outbound_connections = 1 } }\n" +
            Route("c.test", server, "  max_outbound_connections = 10\n  set_binding = b1\n"),
        /*with_limits=*/false);
  for (int i = 0; i < 5; ++i) Accept("r@c.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 5; }));
  EXPECT_EQ(server.peak(), 1u);
  EXPECT_EQ(scheduler_->stats().connection_failures, 0u);
}

TEST_F(SchedulerLimits, WithoutAHostScopeTheDomainCapApplies) {
  CountingSmtpServer server(150ms);
  Start(Route("d.test", server, "  max_outbound_connections = 3\n"), /*with_limits=*/false);
  for (int i = 0; i < 9; ++i) Accept("r@d.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 9; }));
  EXPECT_EQ(server.peak(), 3u);
}

TEST_F(SchedulerLimits, ThrottleHoldsOverAnySlidingWindow) {
  CountingSmtpServer server;
  Start(Route("slow.test", server, "  outbound_throttle_messages = \"2/1\"\n"),
        /*with_limits=*/false);
  for (int i = 0; i < 5; ++i) Accept("r@slow.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 5; }));
  auto at = server.accepted_at();
  ASSERT_EQ(at.size(), 5u);
  std::sort(at.begin(), at.end());
  // Any three consecutive sends span at least the window (send times precede acceptance by
  // at most a loopback round trip, hence the slack).
  for (size_t i = 2; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 2], 950ms) << i;
  }
  // And the throttle timer re-arms for the oldest send's expiry: sends at ~0, 0, 1, 1, 2 s.
  EXPECT_LT(at.back() - at.front(), 2800ms);
}

TEST_F(SchedulerLimits, AReloadedRateApplies) {
  CountingSmtpServer server;
  Start(Route("reload.test", server, "  outbound_throttle_messages = \"1/30\"\n"),
        /*with_limits=*/false);
  for (int i = 0; i < 3; ++i) Accept("r@reload.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 1; }));
  RunFor(300ms);
  EXPECT_EQ(server.messages(), 1u);  // the others wait ~30 s under the old rate
  auto [config, global] = testing::ParseSchedulerConfig(
      Route("reload.test", server, "  outbound_throttle_messages = \"3/1\"\n"));
  const auto reloaded = std::chrono::steady_clock::now();
  scheduler_->Apply(config, global);
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 3; }));
  EXPECT_LT(std::chrono::steady_clock::now() - reloaded, 2s);
}

// Where fixed windows fail: a send early in one window, more later. Fixed windows would let 3
// more through when the next window starts (5 within ~0.4 s); the sliding log lets one more go
// when the first send is a second old, and the rest a second after their own window-mates.
TEST_F(SchedulerLimits, ThrottleIsNotAFixedWindow) {
  CountingSmtpServer server;
  Start(Route("stagger.test", server, "  outbound_throttle_messages = \"3/1\"\n"),
        /*with_limits=*/false);
  Accept("r@stagger.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 1; }));
  RunFor(600ms);
  for (int i = 0; i < 4; ++i) Accept("r@stagger.test");
  ASSERT_TRUE(RunUntil([&] { return server.messages() == 5; }));
  auto at = server.accepted_at();
  std::sort(at.begin(), at.end());
  for (size_t i = 3; i < at.size(); ++i) {
    EXPECT_GE(at[i] - at[i - 3], 950ms) << i;  // never 4 within a second
  }
}

}  // namespace
}  // namespace ec::outbound
