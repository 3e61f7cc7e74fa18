// The Logs `logfile` pattern: expansion, its inverse for tail, and names that must not escape.
#include "manager/logs/log_path.h"

#include <gtest/gtest.h>

#include "manager/logs/logs_config.h"

namespace ec::logcollect {
namespace {

constexpr std::time_t k2026_11_29_061500 = 1795932900;

TEST(LogPathTest, DefaultPatternIsDateLogSubclusterNode) {
  auto p = ExpandLogfilePattern(kDefaultLogfilePattern, {"mainlog", "default", "node1"},
                                k2026_11_29_061500);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p, "2026/11/29/mainlog/default/node1");
  auto q =
      ExpandLogfilePattern("%{n}/%{l}-%Y%m%d%H.log", {"rejectlog", "eu", "n2"}, k2026_11_29_061500);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q, "n2/rejectlog-2026112906.log");
}

TEST(LogPathTest, TheSubclusterNamesItsDirectory) {
  auto p = ExpandLogfilePattern(kDefaultLogfilePattern, {"acctlog", "east", "node1"},
                                k2026_11_29_061500);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "2026/11/29/acctlog/east/node1");
  EXPECT_FALSE(ExpandLogfilePattern(kDefaultLogfilePattern, {"acctlog", "a/b", "n"}, 0).ok());
}

TEST(LogPathTest, LineTimeIsTheLeadingUnixTime) {
  const std::time_t now = k2026_11_29_061500;
  EXPECT_EQ(LineTime("1795900000@m@b@c@R@a@b", now), 1795900000);  // mainlog, acctlog
  EXPECT_EQ(LineTime("1795900000: R=\"1.2.3.4:5\"", now), 1795900000);  // rejectlog, paniclog
  EXPECT_EQ(LineTime("1795900000@@@@M", now), 1795900000);
  for (const char* odd : {"", "x1795900000@", "1795900000", "1795900000x", "0@a",
                          "123456789012@a", "@1795900000"}) {
    EXPECT_EQ(LineTime(odd, now), now) << odd;
  }
}

TEST(LogPathTest, ALineFromYesterdayPulledTodayGoesToYesterdaysFile) {
  const std::time_t today = k2026_11_29_061500;
  const std::string yesterday_line = std::to_string(today - 7 * 3600) + "@id@b@c@D@x";  // 23:15
  auto p = ExpandLogfilePattern(kDefaultLogfilePattern, {"mainlog", "east", "node1"},
                                LineTime(yesterday_line, today));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "2026/11/28/mainlog/east/node1");
}

TEST(LogPathTest, BadPatternsAndNamesAreRefused) {
  LogFileName ok{"mainlog", "default", "node1"};
  for (const char* bad : {"%{x}", "%{l", "%q", "%", "/abs/%{n}", "../%{n}", ""}) {
    EXPECT_FALSE(ExpandLogfilePattern(bad, ok, 0).ok()) << bad;
  }
  for (const char* node : {"", "..", "a/b", "."}) {
    EXPECT_FALSE(ExpandLogfilePattern(kDefaultLogfilePattern, {"mainlog", "default", node}, 0).ok())
        << node;
  }
}

TEST(LogPathTest, MatchIsTheInverse) {
  auto m = MatchLogfilePattern(kDefaultLogfilePattern, "2026/11/29/mainlog/default/node1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->log, "mainlog");
  EXPECT_EQ(m->subcluster, "default");
  EXPECT_EQ(m->node, "node1");
  EXPECT_FALSE(
      MatchLogfilePattern(kDefaultLogfilePattern, "2026/11/29/mainlog/default").has_value());
  EXPECT_FALSE(
      MatchLogfilePattern(kDefaultLogfilePattern, "x/11/29/mainlog/default/n").has_value());
}

TEST(LogPathTest, LogfileSplitsIntoRootAndPattern) {
  auto s = SplitLogfile("/var/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->first, "/var/log/eccluster");
  EXPECT_EQ(s->second, "%Y/%m/%d/%{l}/%{s}/%{n}");
  EXPECT_FALSE(SplitLogfile("relative/%{l}/%{n}").ok());
  EXPECT_FALSE(SplitLogfile("/var/log/all-in-one").ok());
  EXPECT_FALSE(SplitLogfile("/var/log/%Y/%{l}").ok());  // every node in one file
}

}  // namespace
}  // namespace ec::logcollect
