// A bus peer in a child process that the test SIGKILLs or SIGSTOPs: failure detection with the
// (short) test timers, and rejoin of a restarted process as a new incarnation.
// The child is this test binary re-executed to run DISABLED_ChildPeer.Run (never run by ctest).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <thread>

#include "msgc/bus.h"
#include "tests/unit/msgc/bus_test_util.h"

extern char** environ;

namespace ec::msgc {
namespace {

using ::ec::msgc::testing::FreePortOnLoopbacks;
using ::ec::msgc::testing::kDeadTimeout;
using ::ec::msgc::testing::kHeartbeat;
using ::ec::msgc::testing::LogCollector;
using ::ec::msgc::testing::TestLoop;
using ::ec::msgc::testing::TestOptions;
using ::testing::ElementsAre;

using ::ec::msgc::testing::kConverge;
constexpr int kCount = 3;
constexpr int kChild = 2;  // node n2 runs in the child

// Runs node `self` of a kCount cluster until killed. Env: MSGC_CHILD="<self> <port>".
TEST(MsgcChildPeer, DISABLED_Run) {
  const char* spec = std::getenv("MSGC_CHILD");
  ASSERT_NE(spec, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  ::alarm(120);
  int self = 0, port = 0;
  ASSERT_EQ(std::sscanf(spec, "%d %d", &self, &port), 2);
  TestLoop loop;
  auto bus = Bus::Create(
      loop.base(), TestOptions(kCount, self, static_cast<uint16_t>(port), [](std::string_view) {}));
  ASSERT_TRUE(bus.ok()) << bus.status().ToString();
  event_base_dispatch(loop.base());
}

class ChildProcess {
 public:
  ChildProcess(int self, uint16_t port) {
    std::string env_spec = "MSGC_CHILD=" + std::to_string(self) + " " + std::to_string(port);
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
    env.push_back(env_spec.data());
    env.push_back(nullptr);
    std::string exe = "/proc/self/exe", also = "--gtest_also_run_disabled_tests",
                filter = "--gtest_filter=MsgcChildPeer.DISABLED_Run";
    char* argv[] = {exe.data(), also.data(), filter.data(), nullptr};
    EC_CHECK(::posix_spawn(&pid_, exe.c_str(), nullptr, nullptr, argv, env.data()) == 0);
  }
  ~ChildProcess() { Kill(SIGKILL); }
  void Signal(int sig) const { ::kill(pid_, sig); }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

class MsgcBusProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePortOnLoopbacks(kCount);
    child_ = std::make_unique<ChildProcess>(kChild, port_);
    for (int i = 0; i < kChild; ++i) {
      auto bus = Bus::Create(loop_.base(), TestOptions(kCount, i, port_, logs_[i].Fn()));
      ASSERT_TRUE(bus.ok()) << bus.status().ToString();
      buses_.push_back(std::move(bus).value());
    }
    for (auto& bus : buses_) {
      bus->SetMembershipHandler([this, name = bus->name()](const MembershipEvent& e, const View&) {
        if (e.peer != "n2") return;
        if (e.kind == MembershipEvent::Kind::kDead) dead_at_[name] = Clock::now();
        if (e.kind == MembershipEvent::Kind::kAlive || e.kind == MembershipEvent::Kind::kDead) {
          events_[name].push_back(std::string(EventKindName(e.kind)) + ":" + e.reason);
        }
      });
    }
  }
  // We hear the child and our links to it are up.
  bool ChildAliveEverywhere() const {
    return buses_[0]->IsAlive("n2") && buses_[1]->IsAlive("n2") && buses_[0]->IsAlive("n1") &&
           buses_[1]->IsAlive("n0") && buses_[0]->LinkUp("n2") && buses_[1]->LinkUp("n2");
  }
  bool ChildDeadEverywhere() const {
    return !buses_[0]->IsAlive("n2") && !buses_[1]->IsAlive("n2");
  }

  TestLoop loop_;
  uint16_t port_ = 0;
  LogCollector logs_[kChild];
  std::vector<std::unique_ptr<Bus>> buses_;
  std::unique_ptr<ChildProcess> child_;
  std::map<std::string, Clock::time_point> dead_at_;
  std::map<std::string, std::vector<std::string>> events_;
};

TEST_F(MsgcBusProcessTest, KilledPeerIsDeclaredDeadInTimeAndARestartRejoins) {
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildAliveEverywhere(); }, kConverge));
  const uint64_t first_incarnation = buses_[0]->view().Find("n2")->incarnation;

  const auto killed_at = Clock::now();
  child_->Kill(SIGKILL);
  // The configured dead timeout, plus one heartbeat tick of check granularity, plus slack for
  // a loaded machine.
  const auto limit = kDeadTimeout + kHeartbeat + std::chrono::milliseconds(1500);
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildDeadEverywhere(); }, limit));
  for (const auto& [node, at] : dead_at_) {
    // Silence is counted from the last frame heard, at most one heartbeat before the kill.
    EXPECT_GE(at - killed_at, kDeadTimeout - kHeartbeat) << node;
  }
  EXPECT_TRUE(logs_[0].Contains("event=peer_dead node=n0 peer=n2"));
  EXPECT_TRUE(logs_[0].Contains("reason=timeout"));
  EXPECT_TRUE(buses_[0]->IsAlive("n1"));  // the survivors still see each other

  child_ = std::make_unique<ChildProcess>(kChild, port_);
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildAliveEverywhere(); }, kConverge));
  EXPECT_NE(buses_[0]->view().Find("n2")->incarnation, first_incarnation);
  EXPECT_THAT(events_["n0"], ElementsAre("alive:", "dead:timeout", "alive:"));
  EXPECT_THAT(events_["n1"], ElementsAre("alive:", "dead:timeout", "alive:"));
}

TEST_F(MsgcBusProcessTest, StoppedPeerIsDeadAndComesBackAsTheSameIncarnation) {
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildAliveEverywhere(); }, kConverge));
  const uint64_t incarnation = buses_[0]->view().Find("n2")->incarnation;
  child_->Signal(SIGSTOP);
  // A request pending when its peer is declared dead fails then, not at its (later) deadline.
  std::optional<Result<std::string>> reply;
  buses_[0]->Request("n2", "ec_console", "summary", std::chrono::seconds(60),
                     [&](Result<std::string> r) { reply = std::move(r); });
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildDeadEverywhere() && reply; }, kConverge));
  EXPECT_EQ(reply->status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(reply->status().message(), ::testing::HasSubstr("declared dead (timeout)"));
  child_->Signal(SIGCONT);
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildAliveEverywhere(); }, kConverge));
  EXPECT_EQ(buses_[0]->view().Find("n2")->incarnation, incarnation);
}

TEST_F(MsgcBusProcessTest, OurOwnLoopStallIsNotPeerDeath) {
  ASSERT_TRUE(loop_.RunUntil([&] { return ChildAliveEverywhere(); }, kConverge));
  const uint64_t view_id = buses_[0]->view().id;
  // Simulates this process being starved: the loop does not run for twice the dead timeout
  // while the child keeps sending.
  std::this_thread::sleep_for(2 * kDeadTimeout);
  loop_.RunFor(3 * kHeartbeat);
  EXPECT_TRUE(ChildAliveEverywhere());
  EXPECT_EQ(buses_[0]->view().id, view_id);
  EXPECT_TRUE(dead_at_.empty());
}

}  // namespace
}  // namespace ec::msgc
