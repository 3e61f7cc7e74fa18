// ConfigPuller with real child processes (/bin/sh): never blocks the loop, one pull at a time,
// notices coalesced, a hung pull killed.
#include "mta/cluster/config_puller.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ec::mta::cluster {
namespace {

using std::chrono::milliseconds;

const std::string kRev1(40, 'a');
const std::string kRev2 = std::string(39, 'b') + "f";
const std::string kRev3(40, '3');

class ConfigPullerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = event::EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("puller-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A "pull" that appends a line to runs.txt after `seconds`.
  ConfigPullerOptions Options(const std::string& seconds, int exit_code = 0) {
    ConfigPullerOptions o;
    o.argv = {"/bin/sh", "-c",
              "sleep " + seconds + "; echo run >> " + (dir_ / "runs.txt").string() + "; exit " +
                  std::to_string(exit_code)};
    o.poll_interval = milliseconds(10);
    o.log = [this](std::string_view line) { lines_.emplace_back(line); };
    return o;
  }
  int Runs() const {
    std::ifstream in(dir_ / "runs.txt");
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  std::unique_ptr<event::EventBase> base_;
  std::filesystem::path dir_;
  std::vector<std::string> lines_;
};

TEST_F(ConfigPullerTest, RejectsBadRevision) {
  ConfigPuller p(*base_, Options("0"));
  EXPECT_FALSE(p.Notice("abc").ok());
  EXPECT_FALSE(p.Notice(std::string(40, 'g')).ok());
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.started(), 0u);
  EXPECT_TRUE(IsRevisionId(std::string(39, 'b') + "F"));
}

TEST_F(ConfigPullerTest, CoalescesNoticesWhileRunning) {
  ConfigPuller p(*base_, Options("0.3"));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(p.Notice(kRev1).ok());
  ASSERT_TRUE(p.Notice(kRev2).ok());
  ASSERT_TRUE(p.Notice(kRev3).ok());
  ASSERT_TRUE(p.Notice(kRev2).ok());  // a re-announcement
  ASSERT_TRUE(p.Notice(kRev1).ok());  // the running pull's own revision
  // Notice never waits for the child.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(200));
  EXPECT_TRUE(p.running());
  EXPECT_EQ(p.started(), 1u);
  ASSERT_TRUE(
      base_->RunUntil([&] { return p.succeeded() == 2 && !p.running(); }, milliseconds(5000)));
  EXPECT_EQ(p.started(), 2u);  // one more pull for both newer revisions
  EXPECT_EQ(p.coalesced(), 1u);
  EXPECT_EQ(p.duplicates(), 2u);
  EXPECT_EQ(Runs(), 2);
  EXPECT_EQ(p.last_revision(), kRev3);
  // ecconfigd re-announces every few seconds: covered revisions start nothing.
  for (const std::string& r : {kRev1, kRev2, kRev3}) ASSERT_TRUE(p.Notice(r).ok());
  base_->RunUntil([] { return false; }, milliseconds(400));
  EXPECT_EQ(p.started(), 2u);
  EXPECT_EQ(p.duplicates(), 5u);
}

TEST_F(ConfigPullerTest, FailedRevisionRetriedOnlyAfterBackoff) {
  ConfigPullerOptions o = Options("0", 1);
  o.retry_after = milliseconds(300);
  ConfigPuller p(*base_, o);
  ASSERT_TRUE(p.Notice(kRev1).ok());
  ASSERT_TRUE(base_->RunUntil([&] { return p.failed() == 1; }, milliseconds(5000)));
  ASSERT_TRUE(p.Notice(kRev1).ok());  // too soon
  EXPECT_EQ(p.started(), 1u);
  EXPECT_EQ(p.duplicates(), 1u);
  base_->RunUntil([] { return false; }, milliseconds(350));
  ASSERT_TRUE(p.Notice(kRev1).ok());
  EXPECT_EQ(p.started(), 2u);
  ASSERT_TRUE(base_->RunUntil([&] { return p.failed() == 2; }, milliseconds(5000)));
}

TEST_F(ConfigPullerTest, ReportsFailureAndKillsHungPull) {
  {
    ConfigPuller p(*base_, Options("0", 3));
    ASSERT_TRUE(p.Notice(kRev1).ok());
    ASSERT_TRUE(base_->RunUntil([&] { return p.failed() == 1; }, milliseconds(5000)));
    EXPECT_NE(lines_.back().find("exit=3"), std::string::npos) << lines_.back();
  }
  ConfigPullerOptions o = Options("30");
  o.timeout = milliseconds(200);
  ConfigPuller p(*base_, o);
  ASSERT_TRUE(p.Notice(kRev1).ok());
  ASSERT_TRUE(base_->RunUntil([&] { return p.failed() == 1; }, milliseconds(5000)));
  EXPECT_EQ(Runs(), 1);  // the killed one never wrote
  bool saw_timeout = false;
  for (const auto& l : lines_) saw_timeout |= l.find("config_pull_timeout") != std::string::npos;
  EXPECT_TRUE(saw_timeout);
}

TEST_F(ConfigPullerTest, MissingBinaryIsAFailureNotACrash) {
  ConfigPullerOptions o;
  o.argv = {"/nonexistent/eccfg", "pull", "--auto"};
  ConfigPuller p(*base_, o);
  ASSERT_TRUE(p.Notice(kRev1).ok());
  // posix_spawn may report ENOENT at once or the child may exit 127.
  ASSERT_TRUE(base_->RunUntil([&] { return p.failed() == 1; }, milliseconds(5000)));
  EXPECT_EQ(p.succeeded(), 0u);
}

TEST_F(ConfigPullerTest, DestructorKillsRunningPull) {
  auto p = std::make_unique<ConfigPuller>(*base_, Options("30"));
  ASSERT_TRUE(p->Notice(kRev1).ok());
  const auto t0 = std::chrono::steady_clock::now();
  p.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2000));
}

}  // namespace
}  // namespace ec::mta::cluster
