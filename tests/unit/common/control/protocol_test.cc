#include "common/control/protocol.h"

#include <gtest/gtest.h>

namespace ec::control {
namespace {

TEST(EncodeResponse, HeaderCountsTheBody) {
  EXPECT_EQ(EncodeResponse({true, "hello\n"}), "ok 6\nhello\n");
  EXPECT_EQ(EncodeResponse({true, "hello"}), "ok 6\nhello\n");  // newline added
  EXPECT_EQ(EncodeResponse({false, "no such command"}), "error 16\nno such command\n");
  EXPECT_EQ(EncodeResponse({true, ""}), "ok 0\n");
}

TEST(RequestFramer, SplitsLinesAndStripsCr) {
  RequestFramer framer(64);
  std::string line;
  framer.Append("summary\r\nconfig rel");
  ASSERT_EQ(framer.Pop(&line), RequestFramer::Next::kLine);
  EXPECT_EQ(line, "summary");
  EXPECT_EQ(framer.Pop(&line), RequestFramer::Next::kNeedMore);
  framer.Append("oad\n\n");
  ASSERT_EQ(framer.Pop(&line), RequestFramer::Next::kLine);
  EXPECT_EQ(line, "config reload");
  ASSERT_EQ(framer.Pop(&line), RequestFramer::Next::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(framer.Pop(&line), RequestFramer::Next::kNeedMore);
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(RequestFramer, LimitsLineLength) {
  RequestFramer exact(8);
  std::string line;
  exact.Append("12345678\n");
  ASSERT_EQ(exact.Pop(&line), RequestFramer::Next::kLine);
  RequestFramer complete(8);
  complete.Append("123456789\n");
  EXPECT_EQ(complete.Pop(&line), RequestFramer::Next::kTooLong);
  RequestFramer partial(8);
  partial.Append("123456789");  // no newline yet, already too long
  EXPECT_EQ(partial.Pop(&line), RequestFramer::Next::kTooLong);
}

TEST(ResponseParser, ReassemblesAcrossChunks) {
  ResponseParser parser;
  std::string stream = EncodeResponse({true, "a\nb\n"}) + EncodeResponse({false, "bad"});
  std::vector<Response> got;
  for (char c : stream) {  // one byte at a time: the hardest split
    parser.Append(std::string_view(&c, 1));
    auto r = parser.Pop();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (*r) got.push_back(**r);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(got[0].text, "a\nb\n");
  EXPECT_FALSE(got[1].ok);
  EXPECT_EQ(got[1].text, "bad\n");
}

TEST(ResponseParser, RejectsGarbage) {
  for (const char* bad : {"hello\n", "ok\n", "ok -1\n", "ok 1x\n", "ok  1\n", "error\n",
                          "ok 99999999999999999999\n", "ok 100000000000\n"}) {
    ResponseParser parser;
    parser.Append(bad);
    EXPECT_FALSE(parser.Pop().ok()) << bad;
  }
  ResponseParser endless;
  endless.Append(std::string(100, '9'));
  EXPECT_FALSE(endless.Pop().ok());
}

TEST(SplitWords, SplitsOnBlanks) {
  auto words = SplitWords("  show\tcluster   membership ");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0], "show");
  EXPECT_EQ(words[2], "membership");
  EXPECT_TRUE(SplitWords(" \t ").empty());
}

}  // namespace
}  // namespace ec::control
