// Relay decisions, base64, reply formatting, Received:/Date: assembly, extension lists.
#include <gtest/gtest.h>

#include "mta/smtp/base64.h"
#include "mta/smtp/message_assembly.h"
#include "mta/smtp/relay.h"
#include "mta/smtp/reply.h"
#include "mta/smtp/session_policy.h"

namespace ec::smtp {
namespace {

Mailbox Rcpt(std::string local, std::string domain, bool literal = false) {
  Mailbox m;
  m.local_part = std::move(local);
  m.domain = std::move(domain);
  m.domain_is_literal = literal;
  return m;
}

TEST(SmtpRelayTest, DomainPatterns) {
  DomainPatternList list({"Example.COM", "*.corp.example", "trailing.example."});
  EXPECT_TRUE(list.Matches("example.com"));
  EXPECT_TRUE(list.Matches("EXAMPLE.com."));
  EXPECT_FALSE(list.Matches("sub.example.com"));
  EXPECT_TRUE(list.Matches("a.corp.example"));
  EXPECT_TRUE(list.Matches("a.b.corp.example"));
  EXPECT_FALSE(list.Matches("corp.example"));
  EXPECT_FALSE(list.Matches("xcorp.example"));
  EXPECT_TRUE(list.Matches("trailing.example"));
  EXPECT_FALSE(list.Matches("[192.0.2.1]"));
}

TEST(SmtpRelayTest, Decisions) {
  RelayConfig config;
  config.local_domains.Add("example.com");
  config.relay_hosts = *net::CidrSet::Parse({"10.0.0.0/8"});
  const net::IpAddress inside = *net::IpAddress::Parse("10.9.9.9");
  const net::IpAddress outside = *net::IpAddress::Parse("192.0.2.1");
  EXPECT_TRUE(ClientMayRelay(config, &inside, false));
  EXPECT_FALSE(ClientMayRelay(config, &outside, false));
  EXPECT_TRUE(ClientMayRelay(config, &outside, true));
  EXPECT_FALSE(ClientMayRelay(config, nullptr, false));

  EXPECT_EQ(DecideRecipient(config, Rcpt("u", "example.com"), false), RcptVerdict::kAccept);
  EXPECT_EQ(DecideRecipient(config, Rcpt("u", "other.org"), false), RcptVerdict::kDenied);
  EXPECT_EQ(DecideRecipient(config, Rcpt("u", "other.org"), true), RcptVerdict::kRelay);
  EXPECT_EQ(DecideRecipient(config, Rcpt("postmaster", ""), false), RcptVerdict::kAccept);
  EXPECT_EQ(DecideRecipient(config, Rcpt("u%other.org", "example.com"), false),
            RcptVerdict::kDenied);
  EXPECT_EQ(DecideRecipient(config, Rcpt("\"u@other.org\"", "example.com"), false),
            RcptVerdict::kDenied);
  EXPECT_EQ(DecideRecipient(config, Rcpt("other!u", "example.com"), false), RcptVerdict::kDenied);
  EXPECT_EQ(DecideRecipient(config, Rcpt("u", "[192.0.2.1]", true), false), RcptVerdict::kDenied);
  config.open_relay = true;
  EXPECT_TRUE(ClientMayRelay(config, &outside, false));
}

TEST(SmtpBase64Test, RoundTripAndErrors) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0alice\0secret", 13)}) {
    std::optional<std::string> back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("Username:"), "VXNlcm5hbWU6");
  EXPECT_EQ(Base64Encode("Password:"), "UGFzc3dvcmQ6");
  for (const char* bad : {"a", "abc", "ab=c", "a===", "ab!d", "=abc", "ab==cd=="}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(SmtpReplyTest, Format) {
  EXPECT_EQ(FormatReply(Reply{250, "2.1.0", "Ok"}, true), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(FormatReply(Reply{250, "2.1.0", "Ok"}, false), "250 Ok\r\n");
  EXPECT_EQ(FormatReply(Reply{250, "", "a\nb\nc"}, true), "250-a\r\n250-b\r\n250 c\r\n");
  EXPECT_EQ(FormatReply(Reply{550, "5.7.1", "x\ny"}, true), "550-5.7.1 x\r\n550 5.7.1 y\r\n");
  // Echoed client text cannot forge reply lines.
  EXPECT_EQ(FormatReply(Reply{555, "5.5.4", "bad A\rB\x01"}, true), "555 5.5.4 bad A?B?\r\n");
}

TEST(SmtpAssemblyTest, DateFormat) {
  EXPECT_EQ(FormatRfc5322Date(std::chrono::system_clock::time_point(std::chrono::seconds(0))),
            "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(SmtpAssemblyTest, ReceivedHeaderWithTls) {
  Envelope env;
  env.queue_id = "ABC";
  env.helo = "client.example";
  env.client_ip = "2001:db8::5";
  env.protocol = "ESMTPSA";
  env.tls = TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "", false};
  env.rcpts = {"a@example.com", "b@example.com"};
  EXPECT_EQ(BuildReceivedHeader(env, "mx.example.com"),
            "Received: from client.example (unknown [2001:db8::5])\r\n"
            "\tby mx.example.com (ecmta) with ESMTPSA id ABC\r\n"
            "\t(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256)\r\n"
            "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
}

TEST(SmtpExtensionsTest, ParseList) {
  Result<Extensions> e = ParseSmtpExtensions({"PIPELINING", "auth plain", "8BITMIME"});
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->pipelining);
  EXPECT_TRUE(e->auth_plain);
  EXPECT_FALSE(e->auth_login);
  EXPECT_TRUE(e->eightbitmime);
  EXPECT_FALSE(e->starttls);
  EXPECT_FALSE(e->enhanced_status_codes);
  EXPECT_FALSE(e->dsn);  // not listed, so not offered
  Result<Extensions> with_dsn = ParseSmtpExtensions({"dsn"});
  ASSERT_TRUE(with_dsn.ok());
  EXPECT_TRUE(with_dsn->dsn);
  EXPECT_FALSE(with_dsn->pipelining);
  EXPECT_TRUE(Extensions{}.dsn);  // on by default
  EXPECT_FALSE(ParseSmtpExtensions({"DSN FULL"}).ok());
  EXPECT_FALSE(ParseSmtpExtensions({"XCLIENT"}).ok());
  EXPECT_FALSE(ParseSmtpExtensions({"AUTH CRAM-MD5"}).ok());
  EXPECT_FALSE(ParseSmtpExtensions({"AUTH"}).ok());
  EXPECT_FALSE(ParseSmtpExtensions({"SIZE 10"}).ok());
}

}  // namespace
}  // namespace ec::smtp
