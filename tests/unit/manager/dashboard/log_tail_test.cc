#include "manager/dashboard/log_tail.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "manager/logs/last_lines.h"

namespace ec::manager::dashboard {
namespace {

TEST(LogTail, ParseLogQuery) {
  auto q = ParseLogQuery("", "", "");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->lines, kDefaultTailLines);
  EXPECT_TRUE(q->node.empty() && q->log.empty());
  q = ParseLogQuery("node1", "mainlog", "25");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->node, "node1");
  EXPECT_EQ(q->log, "mainlog");
  EXPECT_EQ(q->lines, 25u);
  for (const char* lines : {"0", "1001", "-1", "+5", "5x", "x", " 5"}) {
    EXPECT_FALSE(ParseLogQuery("", "", lines).ok()) << lines;
  }
  EXPECT_TRUE(ParseLogQuery("", "", "1000").ok());
  EXPECT_FALSE(ParseLogQuery("..", "", "").ok());
  EXPECT_FALSE(ParseLogQuery("a/b", "", "").ok());
  EXPECT_FALSE(ParseLogQuery("", "../mainlog", "").ok());
}

TEST(LogTail, RenderMergesFilesByLeadingTimeAndKeepsTheLast) {
  const std::string tail =
      "node1 mainlog: 100@a@R@x\n"
      "node1 mainlog: continuation without a time\n"
      "node1 mainlog: 300@c@D@x\n"
      "node2 mainlog: 200@b@R@\"quoted\"\n"
      "node2 rejectlog: 250 reason=x\n"
      "garbage line\n";
  EXPECT_EQ(RenderTail(tail, 10),
            "{\"lines\":["
            "{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"100@a@R@x\"},"
            "{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"continuation without a time\"},"
            "{\"node\":\"node2\",\"log\":\"mainlog\",\"text\":\"200@b@R@\\\"quoted\\\"\"},"
            "{\"node\":\"node2\",\"log\":\"rejectlog\",\"text\":\"250 reason=x\"},"
            "{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"300@c@D@x\"}"
            "],\"truncated\":false}\n");
  const std::string last = RenderTail(tail, 2);
  EXPECT_EQ(last,
            "{\"lines\":["
            "{\"node\":\"node2\",\"log\":\"rejectlog\",\"text\":\"250 reason=x\"},"
            "{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"300@c@D@x\"}"
            "],\"truncated\":true}\n");
  EXPECT_EQ(RenderTail("", 10), "{\"lines\":[],\"truncated\":false}\n");
}

TEST(LogTail, BoundedInBytes) {
  std::string tail;
  // 200 lines of 2000 bytes: 400 KB, more than kMaxTailBytes.
  for (int i = 0; i < 200; ++i) tail += "n l: " + std::to_string(1000 + i) + std::string(1995, 'x') + "\n";
  const std::string json = RenderTail(tail, 1000);
  EXPECT_LT(json.size(), kMaxTailBytes + 200 * 64);
  EXPECT_NE(json.find("\"truncated\":true"), std::string::npos);
  EXPECT_NE(json.find("\"text\":\"1199x"), std::string::npos);  // the newest stays
  EXPECT_EQ(json.find("\"text\":\"1000x"), std::string::npos);
  // One huge line is cut, at a UTF-8 boundary.
  const std::string huge = "n l: " + std::string(kMaxTailLineBytes - 1, 'a') + "\xc3\xa9tail\n";
  const std::string cut = RenderTail(huge, 10);
  EXPECT_NE(cut.find(std::string(kMaxTailLineBytes - 1, 'a') + "\"}"), std::string::npos);
  EXPECT_NE(cut.find("\"truncated\":true"), std::string::npos);
}

TEST(LogTail, TailJsonReadsTheAggregatedFiles) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ec_dash_tail_" + std::to_string(getpid()));
  fs::remove_all(root);
  // Nothing collected yet: an empty list.
  auto empty = TailJson(root.string(), "%{l}/%{n}", LogQuery{});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "{\"lines\":[],\"truncated\":false}\n");
  fs::create_directories(root / "mainlog");
  std::ofstream(root / "mainlog" / "node1") << "10@one\n30@three\n";
  std::ofstream(root / "mainlog" / "node2") << "20@two\n40@partial";  // no newline yet
  auto all = TailJson(root.string(), "%{l}/%{n}", LogQuery{});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all,
            "{\"lines\":[{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"10@one\"},"
            "{\"node\":\"node2\",\"log\":\"mainlog\",\"text\":\"20@two\"},"
            "{\"node\":\"node1\",\"log\":\"mainlog\",\"text\":\"30@three\"}],"
            "\"truncated\":false}\n");
  auto one = TailJson(root.string(), "%{l}/%{n}", LogQuery{"node2", "mainlog", 5});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one,
            "{\"lines\":[{\"node\":\"node2\",\"log\":\"mainlog\",\"text\":\"20@two\"}],"
            "\"truncated\":false}\n");
  fs::remove_all(root);
}

// A day's file of several MB: only the last lines come back and the read stays bounded by the
// per-file and per-request limits, not by the files' size.
TEST(LogTail, TailJsonReadsBoundedBytesFromTheEnd) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ec_dash_big_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "mainlog");
  for (const char* node : {"node1", "node2", "node3", "node4", "node5", "node6"}) {
    std::ofstream big(root / "mainlog" / node);
    const std::string pad(400, 'x');
    for (int i = 0; i < 6000; ++i) big << (1000000 + i) << "@" << node << pad << "\n";
  }
  ASSERT_GT(fs::file_size(root / "mainlog" / "node1"), 2u * 1024 * 1024);
  uint64_t read = 0;
  auto one = TailJson(root.string(), "%{l}/%{n}", LogQuery{"node1", "mainlog", 3}, &read);
  ASSERT_TRUE(one.ok());
  EXPECT_NE(one->find("\"text\":\"1005999@node1"), std::string::npos);
  EXPECT_NE(one->find("\"text\":\"1005997@node1"), std::string::npos);
  EXPECT_EQ(one->find("\"text\":\"1005996@node1"), std::string::npos);
  EXPECT_GT(read, 0u);
  EXPECT_LE(read, 64u * 1024);  // three lines fit the first block read back
  auto all = TailJson(root.string(), "%{l}/%{n}", LogQuery{"", "", kMaxTailLines}, &read);
  ASSERT_TRUE(all.ok());
  // 1000 lines of 410 bytes are more than a file's bound, six bounds more than the total.
  EXPECT_EQ(read, kMaxTailReadTotal);
  EXPECT_NE(all->find("\"text\":\"1005999@node"), std::string::npos);
  fs::remove_all(root);
}

TEST(LastLines, WholeLinesWithinTheBound) {
  namespace fs = std::filesystem;
  const fs::path file = fs::temp_directory_path() / ("ec_last_lines_" + std::to_string(getpid()));
  std::ofstream(file) << "aaaa\nbbbb\ncccc\ndd";  // "dd" is not finished yet
  auto all = logcollect::ReadLastLines(file.string(), 10, 0);
  EXPECT_EQ(all.lines, (std::vector<std::string>{"aaaa", "bbbb", "cccc"}));
  EXPECT_EQ(all.end, 15u);
  // 9 bytes back reach into "bbbb": it is left out, not returned cut.
  auto bounded = logcollect::ReadLastLines(file.string(), 10, 9);
  EXPECT_EQ(bounded.lines, (std::vector<std::string>{"cccc"}));
  EXPECT_EQ(bounded.bytes_read, 9u);
  EXPECT_EQ(bounded.end, 15u);
  auto last = logcollect::ReadLastLines(file.string(), 1, 0);
  EXPECT_EQ(last.lines, (std::vector<std::string>{"cccc"}));
  EXPECT_TRUE(logcollect::ReadLastLines((file.string() + ".none"), 5, 0).lines.empty());
  fs::remove(file);
}

}  // namespace
}  // namespace ec::manager::dashboard
