#include "mta/outbound/reply_parser.h"

#include <gtest/gtest.h>

namespace ec::outbound {
namespace {

ReplyParse Parse(std::string_view in, ServerReply* r, size_t* used, std::string* err) {
  return ParseReply(in, r, used, err);
}

TEST(ReplyParser, SingleLineWithEnhancedCode) {
  ServerReply r;
  size_t used = 0;
  std::string err;
  std::string in = "550 5.1.1 <a@b>: no such user\r\nrest";
  ASSERT_EQ(Parse(in, &r, &used, &err), ReplyParse::kComplete);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "<a@b>: no such user");
  EXPECT_EQ(used, in.size() - 4);
  EXPECT_TRUE(r.permanent());
  EXPECT_EQ(r.ToString(), "550 <a@b>: no such user");
}

TEST(ReplyParser, MultiLineNeedsTheLastLine) {
  ServerReply r;
  size_t used = 0;
  std::string err;
  EXPECT_EQ(Parse("250-mx\r\n250-PIPELINING\r\n", &r, &used, &err), ReplyParse::kNeedMore);
  ASSERT_EQ(Parse("250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", &r, &used, &err),
            ReplyParse::kComplete);
  EXPECT_EQ(r.lines.size(), 3u);
  Extensions e = ParseExtensions(r);
  EXPECT_TRUE(e.pipelining);
  EXPECT_FALSE(e.starttls);
  EXPECT_EQ(e.size, 1000u);
}

TEST(ReplyParser, BareCodeAndLfOnly) {
  ServerReply r;
  size_t used = 0;
  std::string err;
  ASSERT_EQ(Parse("421\n", &r, &used, &err), ReplyParse::kComplete);
  EXPECT_EQ(r.code, 421);
  EXPECT_TRUE(r.transient());
  EXPECT_EQ(used, 4u);
}

TEST(ReplyParser, Errors) {
  ServerReply r;
  size_t used = 0;
  std::string err;
  EXPECT_EQ(Parse("25x hi\r\n", &r, &used, &err), ReplyParse::kError);
  EXPECT_EQ(Parse("250-a\r\n251 b\r\n", &r, &used, &err), ReplyParse::kError);
  EXPECT_NE(err.find("changed"), std::string::npos);
  EXPECT_EQ(Parse("650 no\r\n", &r, &used, &err), ReplyParse::kError);
  EXPECT_EQ(Parse("250xhello\r\n", &r, &used, &err), ReplyParse::kError);
  EXPECT_EQ(Parse(std::string(kMaxReplyLine + 10, '2'), &r, &used, &err), ReplyParse::kError);
}

TEST(ReplyParser, EnhancedCodeMustMatchClass) {
  ServerReply r;
  size_t used = 0;
  std::string err;
  ASSERT_EQ(Parse("250 5.1.1 odd\r\n", &r, &used, &err), ReplyParse::kComplete);
  EXPECT_EQ(r.enhanced, "");
  EXPECT_EQ(r.lines[0], "5.1.1 odd");
}

}  // namespace
}  // namespace ec::outbound
