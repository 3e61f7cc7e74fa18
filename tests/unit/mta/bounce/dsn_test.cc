#include "mta/bounce/dsn.h"

#include <gtest/gtest.h>

namespace ec::bounce {
namespace {

DsnInput Input() {
  DsnInput in;
  in.reporting_mta = "mta.example.net";
  in.from = "mailer-daemon@mta.example.net";
  in.to = "sender@example.org";
  in.queue_id = "0005F3A2B1C4D00A";
  in.envid = "ENV1";
  in.arrival = 1700000000;
  in.now = 1700000100;
  in.recipients.push_back({.address = "gone@example.com",
                           .orcpt = "rfc822;gone@example.com",
                           .status = "5.1.1",
                           .diagnostic = "550 5.1.1 no such user\r\nInjected: x",
                           .remote_mta = "127.0.0.2"});
  in.original = "Subject: hello\r\nMessage-ID: <m1@x>\r\n\r\nsecret body\r\n";
  in.boundary = "BOUNDARY";
  return in;
}

TEST(Dsn, Rfc3464Structure) {
  std::string m = BuildDsn(Input());
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"), std::string::npos);
  EXPECT_NE(m.find("boundary=\"BOUNDARY\""), std::string::npos);
  EXPECT_NE(m.find("--BOUNDARY\r\nContent-Description: Delivery report\r\n"
                   "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mta.example.net\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Original-Envelope-Id: ENV1\r\n"), std::string::npos);
  EXPECT_NE(m.find("Final-Recipient: rfc822; gone@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Recipient: rfc822;gone@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: failed\r\nStatus: 5.1.1\r\n"), std::string::npos);
  EXPECT_NE(m.find("Diagnostic-Code: smtp; 550 5.1.1 no such user  Injected: x\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers\r\n\r\nSubject: hello\r\n"), std::string::npos);
  EXPECT_EQ(m.find("secret body"), std::string::npos);
  EXPECT_EQ(m.find("\r\nInjected:"), std::string::npos);  // no header injection
  EXPECT_NE(m.find("\r\n--BOUNDARY--\r\n"), std::string::npos);
  EXPECT_EQ(m.substr(0, 6), "From: ");
  // Every line ends in CRLF.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << i;
    }
  }
}

TEST(Dsn, IncludeAllOrNone) {
  DsnInput in = Input();
  in.include = Include::kAll;
  EXPECT_NE(BuildDsn(in).find("message/rfc822\r\n\r\nSubject: hello"), std::string::npos);
  EXPECT_NE(BuildDsn(in).find("secret body"), std::string::npos);
  in.include = Include::kNone;
  EXPECT_EQ(BuildDsn(in).find("Subject: hello"), std::string::npos);
}

TEST(Dsn, BounceClasses) {
  EXPECT_EQ(BounceClass(550, "5.1.1", "no such user", false), 10);
  EXPECT_EQ(BounceClass(552, "5.2.2", "mailbox full", false), 22);
  EXPECT_EQ(BounceClass(554, "5.7.1", "Relay access denied", false), 54);
  EXPECT_EQ(BounceClass(554, "5.7.1", "policy", false), 50);
  EXPECT_EQ(BounceClass(451, "4.4.1", "timeout", true), 24);
  EXPECT_EQ(BounceClass(550, "", "User unknown", false), 10);
  EXPECT_EQ(BounceClass(554, "", "whatever", false), 40);
}

}  // namespace
}  // namespace ec::bounce
