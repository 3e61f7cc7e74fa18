// The command-line parser: verbs, MAIL/RCPT arguments and parameters, BDAT, AUTH.
#include "mta/smtp/command.h"

#include <gtest/gtest.h>

namespace ec::smtp {
namespace {

ParseOptions Esmtp() {
  ParseOptions o;
  o.smtputf8 = true;
  o.auth = true;
  o.binarymime = true;
  return o;
}

std::string ReplyOf(const Reply& r) { return FormatReply(r, true); }

TEST(SmtpCommandTest, VerbsAndArguments) {
  Command c = ParseCommandLine("mail FROM:<a@b.example>  ");
  EXPECT_EQ(c.verb, Verb::kMail);
  EXPECT_EQ(c.args, "FROM:<a@b.example>");
  EXPECT_EQ(ParseCommandLine("StartTLS").verb, Verb::kStartTls);
  EXPECT_EQ(ParseCommandLine("EHLOX").verb, Verb::kUnknown);
  EXPECT_EQ(ParseCommandLine("").verb, Verb::kUnknown);
  EXPECT_EQ(ParseCommandLine("QUIT").args, "");
}

TEST(SmtpCommandTest, MailWithParameters) {
  Parsed<MailCommand> m =
      ParseMailArgs("FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 AUTH=<>", Esmtp());
  ASSERT_TRUE(m.ok()) << ReplyOf(m.error());
  EXPECT_EQ(m.value().sender.ToString(), "a@b.example");
  EXPECT_EQ(m.value().size, 1000u);
  EXPECT_EQ(m.value().body, BodyType::k8BitMime);
  EXPECT_TRUE(m.value().smtputf8);
  EXPECT_EQ(m.value().auth, "<>");
  EXPECT_EQ(ParseMailArgs("FROM:<a@b.example> body=binarymime", Esmtp()).value().body,
            BodyType::kBinaryMime);
  EXPECT_TRUE(ParseMailArgs("FROM: <a@b.example>", Esmtp()).ok());
  EXPECT_TRUE(ParseMailArgs("from:<>", Esmtp()).value().sender.empty());
}

TEST(SmtpCommandTest, MailErrors) {
  struct Case {
    const char* args;
    const char* reply;
  } cases[] = {
      {"TO:<a@b.example>", "501 5.5.2 Syntax: MAIL FROM:<address>\r\n"},
      {"FROM:a@b.example", "501 5.1.7 Bad sender address syntax\r\n"},
      {"FROM:<a@b.example>x", "501 5.1.7 Bad sender address syntax\r\n"},
      {"FROM:<a@b.example> SIZE=abc", "501 5.5.4 Bad SIZE parameter\r\n"},
      {"FROM:<a@b.example> SIZE=1 SIZE=2", "501 5.5.4 Bad SIZE parameter\r\n"},
      {"FROM:<a@b.example> SIZE=99999999999999999999999", "501 5.5.4 Bad SIZE parameter\r\n"},
      {"FROM:<a@b.example> BODY=9BIT", "501 5.5.4 Unsupported BODY type 9BIT\r\n"},
      {"FROM:<a@b.example> SMTPUTF8=yes", "501 5.5.4 Bad SMTPUTF8 parameter\r\n"},
      {"FROM:<a@b.example> AUTH=a=b", "501 5.5.4 Bad AUTH parameter\r\n"},
      {"FROM:<a@b.example> RET=FULL", "555 5.5.4 Unsupported parameter RET\r\n"},
      {"FROM:<a@b.example> =x", "501 5.5.2 Bad parameter syntax\r\n"},
      {"FROM:<j\xc3\xb6rg@b.example>", "553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n"},
  };
  for (const Case& c : cases) {
    Parsed<MailCommand> m = ParseMailArgs(c.args, Esmtp());
    ASSERT_FALSE(m.ok()) << c.args;
    EXPECT_EQ(ReplyOf(m.error()), c.reply) << c.args;
  }
  ParseOptions no_null = Esmtp();
  no_null.allow_null_sender = false;
  EXPECT_EQ(ReplyOf(ParseMailArgs("FROM:<>", no_null).error()),
            "550 5.7.1 Null sender is not allowed\r\n");
  ParseOptions plain;  // after HELO: no extensions
  plain.size = plain.eightbitmime = false;
  EXPECT_EQ(ReplyOf(ParseMailArgs("FROM:<a@b.example> BODY=8BITMIME", plain).error()),
            "555 5.5.4 Unsupported parameter BODY\r\n");
}

TEST(SmtpCommandTest, Smtputf8SenderNeedsTheParameter) {
  EXPECT_TRUE(ParseMailArgs("FROM:<j\xc3\xb6rg@b.example> SMTPUTF8", Esmtp()).ok());
  ParseOptions off = Esmtp();
  off.smtputf8 = false;
  EXPECT_FALSE(ParseMailArgs("FROM:<j\xc3\xb6rg@b.example> SMTPUTF8", off).ok());
}

TEST(SmtpCommandTest, Rcpt) {
  ParseOptions o = Esmtp();
  EXPECT_EQ(ParseRcptArgs("TO:<b@c.example>", o).value().recipient.ToString(), "b@c.example");
  EXPECT_EQ(ParseRcptArgs("to:<Postmaster>", o).value().recipient.ToString(), "Postmaster");
  EXPECT_EQ(ReplyOf(ParseRcptArgs("TO:<>", o).error()),
            "501 5.1.3 Bad recipient address syntax\r\n");
  EXPECT_EQ(ReplyOf(ParseRcptArgs("TO:<b@c.example> NOTIFY=NEVER", o).error()),
            "555 5.5.4 Unsupported parameter NOTIFY\r\n");
  EXPECT_EQ(ReplyOf(ParseRcptArgs("FROM:<b@c.example>", o).error()),
            "501 5.5.2 Syntax: RCPT TO:<address>\r\n");
  EXPECT_FALSE(ParseRcptArgs("TO:<j\xc3\xb6rg@c.example>", o).ok());
  o.transaction_smtputf8 = true;
  EXPECT_TRUE(ParseRcptArgs("TO:<j\xc3\xb6rg@c.example>", o).ok());
}

TEST(SmtpCommandTest, Bdat) {
  EXPECT_EQ(ParseBdatArgs("100").value().size, 100u);
  EXPECT_FALSE(ParseBdatArgs("100").value().last);
  EXPECT_TRUE(ParseBdatArgs("0 LAST").value().last);
  EXPECT_TRUE(ParseBdatArgs("5 last").value().last);
  for (const char* bad : {"", "x", "-1", "5 FIRST", "5 LAST x", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseBdatArgs(bad).ok()) << bad;
  }
}

TEST(SmtpCommandTest, Auth) {
  Parsed<AuthCommand> a = ParseAuthArgs("plain AGFsaWNl");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value().mechanism, "PLAIN");
  EXPECT_EQ(a.value().initial_response, "AGFsaWNl");
  EXPECT_FALSE(ParseAuthArgs("LOGIN").value().initial_response.has_value());
  EXPECT_FALSE(ParseAuthArgs("").ok());
  EXPECT_FALSE(ParseAuthArgs("PLAIN a b").ok());
}

}  // namespace
}  // namespace ec::smtp
