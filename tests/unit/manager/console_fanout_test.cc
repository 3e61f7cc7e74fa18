// ConsoleFanout over real buses on 127.0.0.2..: a manager (n0) and nodes n1..n3 in one loop.
#include "manager/console_fanout.h"

#include <gtest/gtest.h>

#include "common/event/event_base.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::manager {
namespace {

using msgc::testing::FreePortOnLoopbacks;
using msgc::testing::TestOptions;
using std::chrono::milliseconds;

class ConsoleFanoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = event::EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    const uint16_t port = FreePortOnLoopbacks(kNodes);
    for (int i = 0; i < kNodes; ++i) {
      auto bus = msgc::Bus::Create(base_->get(), TestOptions(kNodes, i, port, logs_[i].Fn()));
      ASSERT_TRUE(bus.ok()) << bus.status().ToString();
      buses_.push_back(std::move(bus).value());
    }
    fanout_ = std::make_unique<ConsoleFanout>(*base_, *buses_[0], "ec_console", milliseconds(400));
    buses_[0]->SetMembershipHandler([this](const msgc::MembershipEvent& e, const msgc::View&) {
      if (e.kind == msgc::MembershipEvent::Kind::kGroupJoined && e.group == "ec_console") {
        fanout_->NoteMember(e.peer);
      }
    });
    for (int i = 1; i < kNodes; ++i) {
      msgc::Bus* bus = buses_[i].get();
      ASSERT_TRUE(bus->Join("ec_console").ok());
      bus->SetHandler("ec_console", [bus, i](const msgc::Message& m) {
        if (i == kHung) return;  // never answers
        if (m.payload == "fail") {
          (void)bus->ReplyError(m, "unknown command");
        } else {
          (void)bus->Reply(m, bus->name() + " ran " + m.payload + "\n");
        }
      });
    }
    ASSERT_TRUE(base_->RunUntil(
        [this] {
          // Alive, not just linked: the fanout answers "unreachable" for a node the
          // membership does not call alive yet (seen on a loaded machine). And a frame to it
          // must leave: the link's monitor can say "up" a moment before the socket takes
          // frames for it (a broadcast then found n3 unreachable, seen in the g++ pass).
          for (int i = 1; i < kNodes; ++i) {
            const std::string& name = buses_[i]->name();
            if (!buses_[0]->LinkUp(name) || !buses_[0]->IsAlive(name)) return false;
            if (!buses_[0]->Whisper(name, "probe", "").ok()) return false;  // nobody handles it
          }
          return fanout_->known_nodes().size() == kNodes - 1;
        },
        milliseconds(5000)));
  }
  void TearDown() override {
    fanout_.reset();
    buses_.clear();
  }

  std::optional<FanoutResult> Run(const std::function<void(ConsoleFanout::Done)>& start,
                                  milliseconds* took = nullptr) {
    std::optional<FanoutResult> result;
    const auto t0 = std::chrono::steady_clock::now();
    start([&result](FanoutResult r) { result = std::move(r); });
    EXPECT_FALSE(result.has_value()) << "done ran inside the call";
    base_->RunUntil([&] { return result.has_value(); }, milliseconds(5000));
    if (took) {
      *took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0);
    }
    return result;
  }

  static constexpr int kNodes = 4;
  static constexpr int kHung = 3;
  std::unique_ptr<event::EventBase> base_;
  msgc::testing::LogCollector logs_[kNodes];
  std::vector<std::unique_ptr<msgc::Bus>> buses_;
  std::unique_ptr<ConsoleFanout> fanout_;
};

TEST_F(ConsoleFanoutTest, BroadcastGathersAnswersAndTimesOutTheHungNode) {
  milliseconds took{0};
  auto r =
      Run([this](ConsoleFanout::Done d) { fanout_->Broadcast("summary", std::move(d)); }, &took);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->answers.size(), 3u);
  EXPECT_EQ(r->answers[0].node, "n1");
  EXPECT_EQ(r->answers[0].outcome, NodeAnswer::Outcome::kOk);
  EXPECT_EQ(r->answers[0].text, "n1 ran summary\n");
  EXPECT_EQ(r->answers[1].outcome, NodeAnswer::Outcome::kOk);
  EXPECT_EQ(r->answers[2].node, "n3");
  EXPECT_EQ(r->answers[2].outcome, NodeAnswer::Outcome::kTimedOut);
  // The answering nodes were not held up: they answered long before the deadline.
  EXPECT_LT(r->answers[0].took.count(), 300);
  EXPECT_GE(took.count(), 350);
  EXPECT_LT(took.count(), 2000);
  const std::string text = FormatFanout("broadcast", *r);
  EXPECT_NE(text.find("3 nodes, 2 answered, 0 failed, 1 timed out"), std::string::npos) << text;
  EXPECT_NE(text.find("== n3 (timed out after"), std::string::npos) << text;

  const FanoutResult* cached = fanout_->Cached("summary");
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(cached->answers.size(), 3u);
}

TEST_F(ConsoleFanoutTest, UnicastErrorAndDeadNode) {
  auto r = Run([this](ConsoleFanout::Done d) { fanout_->Unicast("n1", "fail", std::move(d)); });
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->answers.size(), 1u);
  EXPECT_EQ(r->answers[0].outcome, NodeAnswer::Outcome::kError);
  EXPECT_NE(r->answers[0].text.find("unknown command"), std::string::npos);

  buses_[2].reset();  // says goodbye: n2 is dead at once for n0
  ASSERT_TRUE(base_->RunUntil([this] { return !buses_[0]->IsAlive("n2"); }, milliseconds(3000)));
  milliseconds took{0};
  r = Run([this](ConsoleFanout::Done d) { fanout_->Unicast("n2", "summary", std::move(d)); },
          &took);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->answers[0].outcome, NodeAnswer::Outcome::kUnreachable);
  EXPECT_LT(took.count(), 300);  // no deadline to wait for
}

TEST_F(ConsoleFanoutTest, CacheKeepsLatestPerNode) {
  ASSERT_TRUE(Run([this](ConsoleFanout::Done d) { fanout_->Broadcast("x", std::move(d)); }));
  ASSERT_TRUE(Run([this](ConsoleFanout::Done d) { fanout_->Unicast("n1", "x", std::move(d)); }));
  const FanoutResult* cached = fanout_->Cached("x");
  ASSERT_NE(cached, nullptr);
  EXPECT_EQ(cached->answers.size(), 3u);  // the unicast refreshed n1 only
  EXPECT_EQ(fanout_->CachedCommands(), std::vector<std::string>{"x"});
  EXPECT_EQ(fanout_->Cached("y"), nullptr);
}

}  // namespace
}  // namespace ec::manager
