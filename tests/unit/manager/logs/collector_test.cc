// The manager pulls a node's journal exactly once: a real Journal served by JournalService on a
// real ECCluster channel with CURVE keys (127.0.0.1, any port), pulled by the Collector into files
// under a temporary log root, through restarts of the collector, a torn write on the manager's side
// and a node that sends everything again.
#include "manager/logs/collector.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/event/event_base.h"
#include "eccluster/channel_server.h"
#include "manager/logs/tail.h"
#include "mta/journal/journal.h"
#include "mta/logship/journal_service.h"
#include "tests/unit/eccluster/channel_test_util.h"

namespace ec::logcollect {
namespace {
namespace fs = std::filesystem;

// A node: its journal and ECCluster listener on a loop thread of its own.
class FakeNode {
 public:
  FakeNode(const fs::path& dir, const msgc::CurveOptions& curve) {
    base_ = event::EventBase::Create().value();
    journal_ =
        journal::Journal::Open({.dir = (dir / "journal").string(), .subscribers = {"master"}})
            .value();
    service_ = std::make_unique<logship::JournalService>(
        *base_, std::map<std::string, journal::Journal*>{{"mainlog", journal_.get()}});
    service_->SetManagers({"manager"});
    server_ = eccluster::ChannelServer::Start(base_->get(), {.listen = {"127.0.0.1:0"},
                                                             .curve = curve,
                                                             .peers = {"node1", "manager"},
                                                             .log = [](std::string_view) {}})
                  .value();
    service_->RegisterCommands(server_->commands());
    endpoint_ = server_->addresses().at(0);
    thread_ = std::thread([this] { (void)base_->Run(); });
  }
  ~FakeNode() {
    OnLoop([this] {
      server_.reset();
      service_.reset();
    });
    base_->Stop();
    thread_.join();
  }
  void OnLoop(std::function<void()> fn) {
    std::promise<void> done;
    base_->RunInLoop([&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  void Append(int from, int to) {
    OnLoop([&] {
      for (int i = from; i < to; ++i) ASSERT_TRUE(journal_->Append(Line(i)).ok());
    });
  }
  // As if the node had lost its cursor: everything still kept is sent again.
  void Rewind() {
    OnLoop([&] {
      ASSERT_TRUE(journal_->RemoveSubscriber("master").ok());
      ASSERT_TRUE(journal_->AddSubscriber("master").ok());
    });
  }
  static std::string Line(int i) {
    return "1795929773@" + std::to_string(i) + "@R@line " + std::to_string(i);
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<logship::JournalService> service_;
  std::unique_ptr<eccluster::ChannelServer> server_;
  std::string endpoint_;
  std::thread thread_;
};

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("collector_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    node_ = std::make_unique<FakeNode>(dir_ / "node1", keys_.Curve("node1"));
  }
  void TearDown() override {
    collector_.reset();
    node_.reset();
    fs::remove_all(dir_);
  }
  void StartCollector() {
    CollectorOptions o;
    o.self = "manager";
    o.curve = keys_.Curve("manager");
    o.self = "manager";
    o.curve = keys_.Curve("manager");
    o.log_root = (dir_ / "logs").string();
    o.state_dir = (dir_ / "state").string();
    o.logs = {"mainlog"};
    o.wait = std::chrono::milliseconds(100);
    o.pattern = "%{l}/%{s}/%{n}";  // no date: the test may run over midnight
    auto c = Collector::Start(o, {{"node1", node_->endpoint()}});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collector_ = std::move(*c);
  }
  fs::path LogFile() const { return dir_ / "logs/mainlog/default/node1"; }
  std::vector<std::string> Lines() const {
    std::ifstream in(LogFile());
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  // Waits until the manager holds `n` lines (or 10 s).
  bool WaitForLines(size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Lines().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void ExpectExactly(int n) {
    std::vector<std::string> lines = Lines();
    ASSERT_EQ(lines.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(lines[i], FakeNode::Line(i)) << i;
  }

  eccluster::testing::KeyDir keys_{{"node1", "manager"}};
  fs::path dir_;
  std::unique_ptr<FakeNode> node_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(CollectorTest, EveryLineArrivesOnceInOrder) {
  StartCollector();
  node_->Append(0, 500);
  ASSERT_TRUE(WaitForLines(500));
  node_->Append(500, 1200);
  ASSERT_TRUE(WaitForLines(1200));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectExactly(1200);
  EXPECT_NE(collector_->Report().find("1200 lines"), std::string::npos) << collector_->Report();
}

TEST_F(CollectorTest, LinesWrittenBeforeTheManagerFirstReadsAreKept) {
  node_->Append(0, 300);  // "=>master" exists before anyone reads
  StartCollector();
  ASSERT_TRUE(WaitForLines(300));
  ExpectExactly(300);
}

TEST_F(CollectorTest, RestartAfterATornWriteNeitherLosesNorDoubles) {
  StartCollector();
  node_->Append(0, 100);
  ASSERT_TRUE(WaitForLines(100));
  collector_.reset();
  // The manager died after writing lines it had not recorded (and so not acknowledged).
  {
    std::ofstream(LogFile(), std::ios::app) << FakeNode::Line(100) << "\n"
                                            << "half a li";
  }
  node_->Append(100, 150);
  StartCollector();
  ASSERT_TRUE(WaitForLines(150));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectExactly(150);
}

TEST_F(CollectorTest, LinesTheNodeSendsAgainAreSkipped) {
  StartCollector();
  node_->Append(0, 200);
  ASSERT_TRUE(WaitForLines(200));
  collector_.reset();
  node_->Rewind();  // the node forgot our acknowledgements
  node_->Append(200, 220);
  StartCollector();
  ASSERT_TRUE(WaitForLines(220));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectExactly(220);
}

TEST_F(CollectorTest, AnAbsentNodeIsRetriedUntilItAnswers) {
  std::string endpoint = node_->endpoint();
  node_.reset();
  CollectorOptions o;
  o.self = "manager";
  o.curve = keys_.Curve("manager");
  o.log_root = (dir_ / "logs").string();
  o.state_dir = (dir_ / "state").string();
  o.logs = {"mainlog"};
  auto c = Collector::Start(o, {{"node1", endpoint}});
  ASSERT_TRUE(c.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_NE((*c)->Report().find("not connected"), std::string::npos);
  (*c)->Stop();
}

TEST_F(CollectorTest, TailShowsTheAggregatedLinesWithNodeAndLog) {
  StartCollector();
  node_->Append(0, 30);
  ASSERT_TRUE(WaitForLines(30));
  std::ostringstream out;
  TailOptions t{.log_root = (dir_ / "logs").string(), .pattern = "%{l}/%{s}/%{n}", .lines = 3};
  ASSERT_TRUE(RunTail(t, out).ok());
  EXPECT_EQ(out.str(), "node1 mainlog: " + FakeNode::Line(27) + "\nnode1 mainlog: " +
                           FakeNode::Line(28) + "\nnode1 mainlog: " + FakeNode::Line(29) + "\n");
  t.node = "node2";
  std::ostringstream none;
  ASSERT_TRUE(RunTail(t, none).ok());
  EXPECT_EQ(none.str(), "");
}

}  // namespace
}  // namespace ec::logcollect
