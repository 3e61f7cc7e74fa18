// The sender's note of moves in doubt: replay of its file (torn and bad lines, the latest move
// of a message wins), what survives a reopen, and that settled entries and messages no longer in
// the spool are dropped.
#include "mta/mmove/moved_out_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::mmove {
namespace {

using spool::testing::TempDir;

std::unique_ptr<MovedOutLog> OpenMovedOut(const TempDir& dir, std::set<uint64_t> in_spool,
                                          size_t compact_floor = 4096) {
  auto log = MovedOutLog::Open(
      dir.path() + "/movedout", [in_spool](uint64_t id) { return in_spool.count(id) > 0; },
      compact_floor);
  EXPECT_TRUE(log.ok()) << log.status().message();
  return log.ok() ? std::move(*log) : nullptr;
}

std::string FileText(const TempDir& dir) {
  std::ifstream in(dir.path() + "/movedout");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(MmoveMovedOutLog, ReplaySkipsTornAndMalformedLines) {
  auto e = ReplayMovedOut(
      "M n1 5\n"
      "M n2 6\nM n3 6\n"  // moved again: the latest node
      "X n1 7\nM n1 x\nM  8\nM n1 9 9\nM n1\nM n1 -1\n"
      "M n4 10");  // torn: no newline
  EXPECT_EQ(e, (std::map<uint64_t, std::string>{{5, "n1"}, {6, "n3"}}));
  EXPECT_TRUE(ReplayMovedOut("").empty());
}

TEST(MmoveMovedOutLog, NotesSurviveAReopenUntilSettled) {
  TempDir dir;
  {
    auto log = OpenMovedOut(dir, {});
    ASSERT_TRUE(log);
    EXPECT_TRUE(log->entries().empty());
    ASSERT_TRUE(log->Note(1, "node2").ok());
    ASSERT_TRUE(log->Note(2, "node3").ok());
    ASSERT_TRUE(log->Note(3, "node2").ok());
    log->Settle(3);
    EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{1, "node2"}, {2, "node3"}}));
  }
  // A kill -9 now: every note is in the file (the settled one too, until a rewrite).
  EXPECT_EQ(ReplayMovedOut(FileText(dir)).size(), 3u);
  // Reopened: what the spool still holds stays in doubt; the rest had left (removal durable).
  auto log = OpenMovedOut(dir, {1, 3});
  ASSERT_TRUE(log);
  EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{1, "node2"}, {3, "node2"}}));
  EXPECT_EQ(FileText(dir), "M node2 1\nM node2 3\n");  // compacted at open
}

TEST(MmoveMovedOutLog, ReleaseIsDurableAtOnce) {
  TempDir dir;
  {
    auto log = OpenMovedOut(dir, {});
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Note(1, "node2").ok());
    ASSERT_TRUE(log->Note(2, "node2").ok());
    ASSERT_TRUE(log->Note(3, "node3").ok());
    ASSERT_TRUE(log->Release({1, 2, 99}).ok());  // 99: not in doubt, ignored
    EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{3, "node3"}}));
    // A kill -9 now: the file already says so (unlike Settle), so a restart that finds 1 and
    // 2 still in the spool schedules them instead of putting them in doubt again.
    EXPECT_EQ(FileText(dir), "M node3 3\n");
    ASSERT_TRUE(log->Note(4, "node2").ok());  // the log goes on appending after the rewrite
  }
  auto log = OpenMovedOut(dir, {1, 2, 3, 4});
  ASSERT_TRUE(log);
  EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{3, "node3"}, {4, "node2"}}));
}

TEST(MmoveMovedOutLog, ReleaseThatCannotWriteChangesNothing) {
  TempDir dir;
  auto log = OpenMovedOut(dir, {});
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Note(1, "node2").ok());
  // The rewrite's temporary file cannot be created where the directory is gone.
  std::filesystem::remove_all(dir.path());
  EXPECT_FALSE(log->Release({1}).ok());
  EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{1, "node2"}}));
}

TEST(MmoveMovedOutLog, RefusesANodeNameThatWouldBreakTheLine) {
  TempDir dir;
  auto log = OpenMovedOut(dir, {});
  ASSERT_TRUE(log);
  EXPECT_FALSE(log->Note(1, "").ok());
  EXPECT_FALSE(log->Note(1, "two words").ok());
  EXPECT_FALSE(log->Note(1, "new\nline").ok());
  EXPECT_TRUE(log->entries().empty());
}

TEST(MmoveMovedOutLog, StaysBoundedUnderManyMoves) {
  TempDir dir;
  auto log = OpenMovedOut(dir, {}, /*compact_floor=*/10);
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Note(1000, "node3").ok());  // stays in doubt throughout
  for (uint64_t id = 1; id <= 200; ++id) {
    ASSERT_TRUE(log->Note(id, "node2").ok());
    log->Settle(id);
    size_t lines = 0;
    for (char c : FileText(dir)) lines += c == '\n';
    // Rewritten whenever it grew past floor + 4 x live entries.
    ASSERT_LE(lines, 10u + 4u + 1u) << "after " << id;
  }
  EXPECT_EQ(log->entries(), (std::map<uint64_t, std::string>{{1000, "node3"}}));
  EXPECT_EQ(ReplayMovedOut(FileText(dir)).count(1000), 1u);
}

}  // namespace
}  // namespace ec::mmove
