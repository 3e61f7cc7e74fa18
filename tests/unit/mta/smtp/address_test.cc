// RFC 5321 path syntax and limits.
#include "mta/smtp/address.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::smtp {
namespace {

PathError Parse(std::string_view text, Mailbox* mb, PathOptions options = {}) {
  size_t consumed = 0;
  return ParsePath(text, options, mb, &consumed);
}

TEST(SmtpAddressTest, ValidPaths) {
  struct Case {
    const char* text;
    const char* local;
    const char* domain;
  } cases[] = {
      {"<a@example.com>", "a", "example.com"},
      {"<first.last+tag@sub.example.co.uk>", "first.last+tag", "sub.example.co.uk"},
      {"<\"quoted string\"@example.com>", "\"quoted string\"", "example.com"},
      {"<\"a\\\"b\"@example.com>", "\"a\\\"b\"", "example.com"},
      {"<\"x>y\"@example.com>", "\"x>y\"", "example.com"},
      {"<u@[192.0.2.1]>", "u", "[192.0.2.1]"},
      {"<u@[IPv6:2001:db8::1]>", "u", "[IPv6:2001:db8::1]"},
      {"<@a.example,@b.example:u@c.example>", "u", "c.example"},
      {"<!#$%&'*+-/=?^_`{|}~@x-y.example>", "!#$%&'*+-/=?^_`{|}~", "x-y.example"},
  };
  for (const Case& c : cases) {
    Mailbox mb;
    EXPECT_EQ(Parse(c.text, &mb), PathError::kNone) << c.text;
    EXPECT_EQ(mb.local_part, c.local) << c.text;
    EXPECT_EQ(mb.domain, c.domain) << c.text;
  }
}

TEST(SmtpAddressTest, InvalidPaths) {
  for (const char* text : {"a@example.com",
                           "<a@example.com",
                           "<>",
                           "<a>",
                           "<@example.com>",
                           "<a@>",
                           "<.a@b.example>",
                           "<a.@b.example>",
                           "<a..b@c.example>",
                           "<a b@c.example>",
                           "<a@-b.example>",
                           "<a@b-.example>",
                           "<a@b..example>",
                           "<a@[300.1.1.1]>",
                           "<a@[1.2.3]>",
                           "<a@[tag:stuff]>",
                           "<a@[IPv6:zz::1]>",
                           "<\"unterminated@b.example>",
                           "<a@b@c.example>",
                           "<a@exa_mple.com>",
                           "<@a.example:>",
                           "<@bad_host:u@c.example>",
                           "<a@b.example>>"}) {
    Mailbox mb;
    size_t consumed = 0;
    const PathError e = ParsePath(text, PathOptions{}, &mb, &consumed);
    // "<a@b.example>>" parses the path; the caller rejects what follows.
    if (std::string_view(text) == "<a@b.example>>") {
      EXPECT_EQ(consumed, 13u);
      continue;
    }
    EXPECT_NE(e, PathError::kNone) << text;
  }
}

TEST(SmtpAddressTest, NullPathAndPostmaster) {
  Mailbox mb;
  EXPECT_EQ(Parse("<>", &mb, {.allow_null = true}), PathError::kNone);
  EXPECT_TRUE(mb.empty());
  EXPECT_EQ(Parse("<postmaster>", &mb, {.allow_postmaster = true}), PathError::kNone);
  EXPECT_EQ(mb.ToString(), "postmaster");
  EXPECT_EQ(Parse("<POSTMASTER>", &mb, {.allow_postmaster = true}), PathError::kNone);
  EXPECT_NE(Parse("<postmaster>", &mb), PathError::kNone);
  EXPECT_NE(Parse("<\"postmaster\">", &mb, {.allow_postmaster = true}), PathError::kNone);
}

TEST(SmtpAddressTest, LengthLimits) {
  Mailbox mb;
  const std::string local64(64, 'a');
  EXPECT_EQ(Parse("<" + local64 + "@example.com>", &mb), PathError::kNone);
  EXPECT_EQ(Parse("<" + local64 + "a@example.com>", &mb), PathError::kLocalTooLong);
  // 254 + "<>" = 256: just fits.
  std::string domain;
  while (domain.size() < 240) domain += std::string(59, 'd') + ".";
  domain += "example";  // 247
  const std::string fits = "<" + std::string(254 - 1 - domain.size(), 'u') + "@" + domain + ">";
  ASSERT_EQ(fits.size(), 256u);
  EXPECT_EQ(Parse(fits, &mb), PathError::kNone);
  const std::string too_long = "<u" + fits.substr(1);
  EXPECT_EQ(Parse(too_long, &mb), PathError::kPathTooLong);
  std::string big_domain;
  while (big_domain.size() < 256) big_domain += std::string(60, 'd') + ".";
  big_domain += "com";
  EXPECT_NE(Parse("<u@" + big_domain + ">", &mb), PathError::kNone);
  EXPECT_NE(Parse("<u@" + std::string(64, 'l') + ".com>", &mb), PathError::kNone);  // label > 63
}

TEST(SmtpAddressTest, Utf8OnlyWithSmtputf8) {
  Mailbox mb;
  const std::string utf8 =
      "<j\xc3\xb6rg@b\xc3\xbc"
      "cher.example>";
  EXPECT_EQ(Parse(utf8, &mb), PathError::kUtf8NotAllowed);
  EXPECT_EQ(Parse(utf8, &mb, {.allow_utf8 = true}), PathError::kNone);
  EXPECT_EQ(mb.domain,
            "b\xc3\xbc"
            "cher.example");
  // Malformed UTF-8 is refused even with SMTPUTF8.
  EXPECT_NE(Parse("<j\xc3@example.com>", &mb, {.allow_utf8 = true}), PathError::kNone);
  EXPECT_NE(Parse("<a@\xed\xa0\x80.example>", &mb, {.allow_utf8 = true}), PathError::kNone);
}

TEST(SmtpAddressTest, LiteralsWithEmbeddedNulAreRefused) {
  Mailbox mb;
  EXPECT_NE(Parse(std::string("<u@[IPv6:2001:db8::\0\0001]>", 24), &mb), PathError::kNone);
  EXPECT_NE(Parse(std::string("<u@[192.0.2.1\0]>", 16), &mb), PathError::kNone);
  EXPECT_FALSE(IsValidAddressLiteral(std::string_view("[IPv6:::1\0x]", 12)));
}

TEST(SmtpAddressTest, IpLiteralsCanBeDisabled) {
  Mailbox mb;
  EXPECT_NE(Parse("<u@[192.0.2.1]>", &mb, {.allow_ip_literal = false}), PathError::kNone);
}

TEST(SmtpAddressTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

}  // namespace
}  // namespace ec::smtp
