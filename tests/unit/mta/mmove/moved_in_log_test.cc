// The moved-in record: replay of its file (torn and bad lines), settling intents at open,
// the window and the bound, and that what was written survives a reopen.
#include "mta/mmove/moved_in_log.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::mmove {
namespace {

using spool::testing::TempDir;

std::unique_ptr<MovedInLog> OpenMovedIn(const TempDir& dir, int64_t now,
                                        std::function<bool(uint64_t)> stored = nullptr,
                                        size_t max_entries = 1000) {
  if (!stored) stored = [](uint64_t) { return false; };
  auto log = MovedInLog::Open(
      {.path = dir.path() + "/movedin", .window = std::chrono::seconds(100),
       .max_entries = max_entries},
      now, stored);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? std::move(*log) : nullptr;
}

TEST(MmoveMovedInLog, ReplaySkipsTornAndMalformedLines) {
  auto e = ReplayMovedIn(
      "I n1 5 50 1000\nC n1 5 1001\n"
      "I n1 6 60 1000\n"          // intent only
      "I n2 7 70 1000\nF n2 7\n"  // forgotten
      "C n9 9 1\n"                // commit without intent
      "I n1 5 99 2000\n"          // never replaces
      "X n1 8 80 1\nI n1 x 1 1\nI  1 1 1\nI n1 8 80\n"
      "I n3 1 10 1");  // torn: no newline
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e.at({"n1", 5}), (MovedInEntry{.receiver_id = 50, .at_us = 1001, .committed = true}));
  EXPECT_EQ(e.at({"n1", 6}), (MovedInEntry{.receiver_id = 60, .at_us = 1000}));
}

TEST(MmoveMovedInLog, SurvivesReopenAndSettlesIntents) {
  TempDir dir;
  {
    auto log = OpenMovedIn(dir, 1000);
    ASSERT_TRUE(log->Intent({"b", 1}, 11, 1000).ok());
    ASSERT_TRUE(log->Commit({"b", 1}, 1001).ok());
    ASSERT_TRUE(log->Intent({"b", 2}, 12, 1002).ok());  // stored, then we "died"
    ASSERT_TRUE(log->Intent({"b", 3}, 13, 1003).ok());  // not stored, then we "died"
    ASSERT_TRUE(log->Intent({"c", 1}, 14, 1004).ok());
    ASSERT_TRUE(log->Forget({"c", 1}).ok());
    EXPECT_EQ(log->Intent({"b", 1}, 15, 1005).code(), StatusCode::kAlreadyExists);
  }
  auto log = OpenMovedIn(dir, 2000, [](uint64_t id) { return id == 12 || id == 13 + 100; });
  EXPECT_EQ(log->size(), 2u);
  ASSERT_NE(log->Find({"b", 1}), nullptr);
  EXPECT_EQ(log->Find({"b", 1})->receiver_id, 11u);
  ASSERT_NE(log->Find({"b", 2}), nullptr);
  EXPECT_TRUE(log->Find({"b", 2})->committed);
  EXPECT_EQ(log->Find({"b", 3}), nullptr);
  EXPECT_EQ(log->Find({"c", 1}), nullptr);
  log.reset();
  log = OpenMovedIn(dir, 2001);  // the settled state was written back
  EXPECT_EQ(log->size(), 2u);
}

TEST(MmoveMovedInLog, WindowAndBound) {
  TempDir dir;
  const int64_t s = 1000000;  // one second in microseconds
  auto log = OpenMovedIn(dir, 0, nullptr, 2);
  ASSERT_TRUE(log->Intent({"b", 1}, 11, 0).ok());
  ASSERT_TRUE(log->Commit({"b", 1}, 0).ok());
  ASSERT_TRUE(log->Intent({"b", 2}, 12, 50 * s).ok());
  // Full: the committed entry is still inside its window, so a new move is refused.
  EXPECT_EQ(log->Intent({"b", 3}, 13, 60 * s).code(), StatusCode::kResourceExhausted);
  // Past the window the committed one expires and makes room; the open intent never does.
  EXPECT_TRUE(log->Intent({"b", 3}, 13, 101 * s).ok());
  EXPECT_EQ(log->Find({"b", 1}), nullptr);
  ASSERT_NE(log->Find({"b", 2}), nullptr);
  EXPECT_EQ(log->Expire(1000 * s), 0u);
  EXPECT_EQ(log->Intent({"b", 4}, 14, 1000 * s).code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(log->Intent({"bad node", 5}, 15, 0).ok());
}

TEST(MmoveMovedInLog, ManyChangesStayBoundedOnDisk) {
  TempDir dir;
  auto log = OpenMovedIn(dir, 0);
  for (uint64_t i = 1; i <= 2100; ++i) {
    ASSERT_TRUE(log->Intent({"b", i}, i, 0).ok());
    ASSERT_TRUE(log->Forget({"b", i}).ok());
  }
  std::ifstream in(dir.path() + "/movedin");
  std::string line;
  size_t lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_LT(lines, 200u);  // compacted once past the floor of 4096 lines
  EXPECT_EQ(log->size(), 0u);
}

}  // namespace
}  // namespace ec::mmove
