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
      {"FROM:<a@b.example> RET=FULL", "555 5.5.4 Unsupported parameter RET\r\n"},  // no DSN
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

ParseOptions Dsn() {
  ParseOptions o = Esmtp();
  o.dsn = true;
  return o;
}

TEST(SmtpCommandTest, DsnMailParameters) {
  Parsed<MailCommand> m = ParseMailArgs("FROM:<a@b.example> RET=FULL ENVID=QQ+2B1", Dsn());
  ASSERT_TRUE(m.ok()) << ReplyOf(m.error());
  EXPECT_EQ(m.value().dsn_ret, spool::DsnRet::kFull);
  EXPECT_EQ(m.value().dsn_envid, "QQ+2B1");  // as sent, not decoded
  m = ParseMailArgs("FROM:<> ret=Hdrs envid=x SIZE=10", Dsn());
  ASSERT_TRUE(m.ok()) << ReplyOf(m.error());
  EXPECT_EQ(m.value().dsn_ret, spool::DsnRet::kHeaders);
  EXPECT_EQ(m.value().dsn_envid, "x");
  m = ParseMailArgs("FROM:<a@b.example>", Dsn());
  EXPECT_EQ(m.value().dsn_ret, spool::DsnRet::kUnset);
  EXPECT_EQ(m.value().dsn_envid, "");
  // Decoded white space is printable; the bound counts decoded characters.
  EXPECT_TRUE(ParseMailArgs("FROM:<a@b.example> ENVID=a+20b+09c", Dsn()).ok());
  const std::string at_limit = std::string(97, 'e') + "+2B+2B+2B";  // 100 decoded, 106 sent
  EXPECT_EQ(ParseMailArgs("FROM:<a@b.example> ENVID=" + at_limit, Dsn()).value().dsn_envid,
            at_limit);
}

TEST(SmtpCommandTest, DsnMailErrors) {
  const std::string too_long = std::string(98, 'e') + "+2B+2B+2B";  // 101 decoded
  const std::string cases[][2] = {
      {"RET=", "501 5.5.4 Bad RET parameter: use RET=FULL or RET=HDRS\r\n"},
      {"RET=HEADERS", "501 5.5.4 Bad RET parameter: use RET=FULL or RET=HDRS\r\n"},
      {"RET=FULL RET=HDRS", "501 5.5.4 Duplicate RET parameter\r\n"},
      {"ENVID", "501 5.5.4 Bad ENVID parameter: empty\r\n"},
      {"ENVID=a+", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a+4", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a+4g", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a+2b", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a=b", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a+00", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=a+7F", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=j\xc3\xb6rg", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
      {"ENVID=" + too_long, "501 5.5.4 Bad ENVID parameter: longer than 100 characters\r\n"},
      {"ENVID=a ENVID=a", "501 5.5.4 Duplicate ENVID parameter\r\n"},
      // A refused ENVID after an accepted one still refuses the whole command.
      {"RET=FULL ENVID=a+", "501 5.5.4 Bad ENVID parameter: not xtext of printable ASCII\r\n"},
  };
  for (const auto& [params, reply] : cases) {
    Parsed<MailCommand> m = ParseMailArgs("FROM:<a@b.example> " + params, Dsn());
    ASSERT_FALSE(m.ok()) << params;
    EXPECT_EQ(ReplyOf(m.error()), reply) << params;
  }
}

TEST(SmtpCommandTest, DsnRcptParameters) {
  Parsed<RcptCommand> r = ParseRcptArgs(
      "TO:<b@c.example> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;b+2Bx@c.example", Dsn());
  ASSERT_TRUE(r.ok()) << ReplyOf(r.error());
  EXPECT_EQ(r.value().dsn.notify,
            spool::kNotifySuccess | spool::kNotifyFailure | spool::kNotifyDelay);
  EXPECT_EQ(r.value().dsn.orcpt, "rfc822;b+2Bx@c.example");  // as sent
  r = ParseRcptArgs("TO:<b@c.example> notify=never", Dsn());
  EXPECT_EQ(r.value().dsn.notify, spool::kNotifyNever);
  EXPECT_EQ(r.value().dsn.orcpt, "");
  r = ParseRcptArgs("TO:<b@c.example> Notify=delay,Failure", Dsn());
  EXPECT_EQ(r.value().dsn.notify, spool::kNotifyDelay | spool::kNotifyFailure);
  r = ParseRcptArgs("TO:<b@c.example>", Dsn());
  EXPECT_EQ(r.value().dsn, RcptDsn{});
  // Any atom is an address type; the address may hold ";" and encoded white space.
  r = ParseRcptArgs("TO:<b@c.example> ORCPT=X-Local;a;b+20c", Dsn());
  EXPECT_EQ(r.value().dsn.orcpt, "X-Local;a;b+20c");
  const std::string at_limit = "rfc822;" + std::string(493, 'o');  // 500 as sent
  EXPECT_EQ(ParseRcptArgs("TO:<b@c.example> ORCPT=" + at_limit, Dsn()).value().dsn.orcpt, at_limit);
}

TEST(SmtpCommandTest, DsnRcptErrors) {
  const std::string notify_usage =
      "501 5.5.4 Bad NOTIFY parameter: use NEVER or SUCCESS,FAILURE,DELAY\r\n";
  const std::string not_xtext =
      "501 5.5.4 Bad ORCPT parameter: address is not xtext of printable ASCII\r\n";
  const std::string cases[][2] = {
      {"NOTIFY", notify_usage},
      {"NOTIFY=", notify_usage},
      {"NOTIFY=ALWAYS", notify_usage},
      {"NOTIFY=,SUCCESS", notify_usage},
      {"NOTIFY=SUCCESS,,DELAY", notify_usage},
      {"NOTIFY=SUCCESS;DELAY", notify_usage},
      {"NOTIFY=DELAY,delay", "501 5.5.4 Bad NOTIFY parameter: delay given twice\r\n"},
      {"NOTIFY=NEVER,NEVER", "501 5.5.4 Bad NOTIFY parameter: NEVER given twice\r\n"},
      {"NOTIFY=FAILURE,NEVER",
       "501 5.5.4 Bad NOTIFY parameter: NEVER cannot be combined with other values\r\n"},
      {"NOTIFY=SUCCESS NOTIFY=FAILURE", "501 5.5.4 Duplicate NOTIFY parameter\r\n"},
      {"ORCPT", "501 5.5.4 Bad ORCPT parameter: use ORCPT=addr-type;address\r\n"},
      {"ORCPT=rfc822", "501 5.5.4 Bad ORCPT parameter: use ORCPT=addr-type;address\r\n"},
      {"ORCPT=;a@b", "501 5.5.4 Bad ORCPT parameter: address type is not an atom\r\n"},
      {"ORCPT=rfc.822;a@b", "501 5.5.4 Bad ORCPT parameter: address type is not an atom\r\n"},
      {"ORCPT=rfc822;", "501 5.5.4 Bad ORCPT parameter: empty address\r\n"},
      {"ORCPT=rfc822;a+", not_xtext},
      {"ORCPT=rfc822;a+3d", not_xtext},
      {"ORCPT=rfc822;a=b", not_xtext},
      {"ORCPT=rfc822;a+0D+0A", not_xtext},
      {"ORCPT=rfc822;a+C3+B6", not_xtext},
      {"ORCPT=rfc822;a@b ORCPT=rfc822;a@b", "501 5.5.4 Duplicate ORCPT parameter\r\n"},
      {"ORCPT=rfc822;" + std::string(494, 'o'),
       "501 5.5.4 Bad ORCPT parameter: longer than 500 characters\r\n"},
      {"NOTIFY=NEVER ORCPT=rfc822;a+", not_xtext},
  };
  for (const auto& [params, reply] : cases) {
    Parsed<RcptCommand> r = ParseRcptArgs("TO:<b@c.example> " + params, Dsn());
    ASSERT_FALSE(r.ok()) << params;
    EXPECT_EQ(ReplyOf(r.error()), reply) << params;
  }
}

TEST(SmtpCommandTest, DsnParametersNeedTheExtension) {
  // Without DSN offered (or after HELO) the keywords are unknown parameters.
  EXPECT_EQ(ReplyOf(ParseMailArgs("FROM:<a@b.example> ENVID=x", Esmtp()).error()),
            "555 5.5.4 Unsupported parameter ENVID\r\n");
  EXPECT_EQ(ReplyOf(ParseRcptArgs("TO:<b@c.example> ORCPT=rfc822;b@c.example", Esmtp()).error()),
            "555 5.5.4 Unsupported parameter ORCPT\r\n");
  EXPECT_EQ(ReplyOf(ParseRcptArgs("TO:<b@c.example> NOTIFY=NEVER", Esmtp()).error()),
            "555 5.5.4 Unsupported parameter NOTIFY\r\n");
  // And other unknown RCPT parameters stay unknown with DSN on.
  EXPECT_EQ(ReplyOf(ParseRcptArgs("TO:<b@c.example> XFOO=1", Dsn()).error()),
            "555 5.5.4 Unsupported parameter XFOO\r\n");
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
