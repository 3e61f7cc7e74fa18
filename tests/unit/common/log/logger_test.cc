#include "common/log/logger.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace ec::log {
namespace {

std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class LoggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ / "ecmta.log";
    ASSERT_TRUE(logger_.LogToFile(path_.string()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The line without its timestamp, which is checked on its own.
  std::string Body(const std::string& line) {
    static const std::regex kStamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z )");
    EXPECT_TRUE(std::regex_search(line, kStamp)) << line;
    return std::regex_replace(line, kStamp, "");
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  Logger logger_;
};

TEST_F(LoggerTest, OneLineWithFields) {
  logger_.SetNode("n1");
  EC_LOG_TO(logger_, kInfo, "accepted").Field("session", 12).Field("peer", "127.0.0.1");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Body(lines[0]), "level=info node=n1 msg=\"accepted\" session=12 peer=127.0.0.1");
}

TEST_F(LoggerTest, NodeLeftOutWhenUnset) {
  EC_LOG_TO(logger_, kError, "disk full").Field("free", 0u).Field("ok", false);
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Body(lines[0]), "level=error msg=\"disk full\" free=0 ok=false");
}

TEST_F(LoggerTest, QuotesValuesThatNeedIt) {
  EC_LOG_TO(logger_, kWarn, "say \"hi\"")
      .Field("spaces", "two words")
      .Field("empty", "")
      .Field("eq", "a=b")
      .Field("quote", "x\"y")
      .Field("slash", "c:\\dir")
      .Field("ctl", "line1\nline2\t\x01")
      .Field("bad key!", "v")
      .Field("status", NotFound("no such file"));
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Body(lines[0]),
            "level=warn msg=\"say \\\"hi\\\"\" spaces=\"two words\" empty=\"\" eq=\"a=b\" "
            "quote=\"x\\\"y\" slash=\"c:\\\\dir\" ctl=\"line1\\nline2\\t\\x01\" bad_key_=v "
            "status=\"not found: no such file\"");
}

TEST_F(LoggerTest, AppendValueQuotesOnlyWhenNeeded) {
  std::string out;
  AppendValue(&out, "plain-value_1.2:3/4");
  EXPECT_EQ(out, "plain-value_1.2:3/4");
  out.clear();
  AppendValue(&out, "caf\xc3\xa9");
  EXPECT_EQ(out, "\"caf\xc3\xa9\"");
}

int g_evaluations = 0;
int Expensive() {
  ++g_evaluations;
  return 42;
}

TEST_F(LoggerTest, BelowLevelCostsNothing) {
  logger_.SetLevel(Level::kWarn);
  g_evaluations = 0;
  EC_LOG_TO(logger_, kInfo, "hidden").Field("x", Expensive());
  EC_LOG_TO(logger_, kDebug, "hidden").Field("x", Expensive());
  EXPECT_EQ(g_evaluations, 0);
  EXPECT_TRUE(ReadLines(path_).empty());
  EC_LOG_TO(logger_, kWarn, "shown").Field("x", Expensive());
  EXPECT_EQ(g_evaluations, 1);
  EXPECT_EQ(ReadLines(path_).size(), 1u);
}

TEST_F(LoggerTest, MacroIsOneStatement) {
  bool cond = false;
  // Would bind the else to the macro's own conditional if the macro were an if statement.
  if (cond)
    EC_LOG_TO(logger_, kInfo, "then");
  else
    EC_LOG_TO(logger_, kInfo, "else");
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Body(lines[0]), "level=info msg=\"else\"");
}

TEST_F(LoggerTest, ReopenAfterRename) {
  EC_LOG_TO(logger_, kInfo, "one");
  std::filesystem::rename(path_, dir_ / "ecmta.log.1");  // logrotate moves the file ...
  EC_LOG_TO(logger_, kInfo, "two");                      // ... we still write the old one ...
  ASSERT_TRUE(logger_.Reopen().ok());                    // ... until SIGHUP reopens
  EC_LOG_TO(logger_, kInfo, "three");
  auto rotated = ReadLines(dir_ / "ecmta.log.1");
  auto current = ReadLines(path_);
  ASSERT_EQ(rotated.size(), 2u);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(Body(rotated[0]), "level=info msg=\"one\"");
  EXPECT_EQ(Body(rotated[1]), "level=info msg=\"two\"");
  EXPECT_EQ(Body(current[0]), "level=info msg=\"three\"");
}

TEST_F(LoggerTest, LinesFromThreadsNeverInterleave) {
  constexpr int kThreads = 4;
  constexpr int kLines = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kLines; ++i) {
        EC_LOG_TO(logger_, kInfo, "tick")
            .Field("thread", t)
            .Field("i", i)
            .Field("pad", std::string(200, 'x'));
      }
    });
  }
  for (auto& th : threads) th.join();
  auto lines = ReadLines(path_);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLines));
  const std::regex kLine(R"(level=info msg="tick" thread=\d i=\d+ pad=x{200})");
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(Body(line), kLine)) << line;
}

TEST(LogLevel, ParsesNames) {
  EXPECT_EQ(*ParseLevel("error"), Level::kError);
  EXPECT_EQ(*ParseLevel("WARNING"), Level::kWarn);
  EXPECT_EQ(*ParseLevel("Debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("trace"), Level::kTrace);
  auto bad = ParseLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("verbose"), std::string::npos);
  EXPECT_EQ(LevelName(Level::kInfo), "info");
}

}  // namespace
}  // namespace ec::log
