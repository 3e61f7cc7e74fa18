// SmtpClient against a scripted server on 127.0.0.1 (a plain blocking socket on a thread).
#include "mta/outbound/smtp_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "mta/bounce/dsn.h"
#include "mta/smtp/xtext.h"

namespace ec::outbound {
namespace {

// Accepts one connection and answers each command line with the next reply that matches its
// verb; records what the client sent. `hang` stops answering after the greeting; `ehlo`, when
// given, is the whole EHLO reply (CRLF lines) instead of the default one.
class ScriptedServer {
 public:
  ScriptedServer(bool pipelining, std::vector<std::string> rcpt_replies, bool hang = false,
                 std::string ehlo = "")
      : pipelining_(pipelining),
        rcpt_replies_(std::move(rcpt_replies)),
        hang_(hang),
        ehlo_(std::move(ehlo)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    if (conn_ >= 0) ::shutdown(conn_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    if (conn_ >= 0) ::close(conn_);
  }
  uint16_t port() const { return port_; }
  std::string received() {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }

 private:
  void Send(const std::string& s) { (void)::send(conn_, s.data(), s.size(), MSG_NOSIGNAL); }
  void Run() {
    conn_ = ::accept(fd_, nullptr, nullptr);
    if (conn_ < 0) return;
    Send("220 test ESMTP\r\n");
    if (hang_) {
      char b[256];
      while (!stop_ && ::recv(conn_, b, sizeof b, 0) > 0) {
      }
      return;
    }
    std::string buf;
    bool in_data = false;
    size_t rcpt = 0;
    char chunk[4096];
    while (!stop_) {
      ssize_t n = ::recv(conn_, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
      {
        std::lock_guard<std::mutex> l(mu_);
        received_.append(chunk, static_cast<size_t>(n));
      }
      size_t eol;
      while ((eol = buf.find("\r\n")) != std::string::npos) {
        std::string line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        if (in_data) {
          if (line == ".") {
            in_data = false;
            Send("250 2.0.0 queued as X\r\n");
          }
          continue;
        }
        std::string verb = line.substr(0, 4);
        if (verb == "EHLO" && !ehlo_.empty()) {
          Send(ehlo_);
        } else if (verb == "EHLO") {
          Send(pipelining_ ? "250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n" : "250 test\r\n");
        } else if (verb == "MAIL") {
          Send("250 2.1.0 ok\r\n");
        } else if (verb == "RCPT") {
          Send(rcpt < rcpt_replies_.size() ? rcpt_replies_[rcpt++] + "\r\n" : "250 ok\r\n");
        } else if (verb == "DATA") {
          in_data = true;
          Send("354 go ahead\r\n");
        } else if (verb == "QUIT") {
          Send("221 bye\r\n");
          return;
        } else {
          Send("250 ok\r\n");
        }
      }
    }
  }

  bool pipelining_;
  std::vector<std::string> rcpt_replies_;
  bool hang_;
  std::string ehlo_;
  int fd_ = -1, conn_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::string received_;
};

struct Outcome {
  bool ready = false;
  bool closed = false;
  bool was_ready = false;
  Status why;
  std::vector<ServerReply> replies;
  bool done = false;
};

std::shared_ptr<DomainPolicy> TestPolicy() {
  auto p = std::make_shared<DomainPolicy>();
  p->domain = "example.test";
  p->ehlo_hostname = "client.test";
  p->timeouts.ehlo = std::chrono::milliseconds(500);
  p->timeouts.mailfrom = std::chrono::milliseconds(2000);
  p->timeouts.connect = std::chrono::milliseconds(2000);
  return p;
}

void RunTransaction(bool pipelining, Outcome* out, ScriptedServer* server,
                    std::shared_ptr<DomainPolicy> policy) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  auto addr = event::SocketAddress::ParseHostPort("127.0.0.1:" + std::to_string(server->port()));
  ASSERT_TRUE(addr.ok());
  std::unique_ptr<SmtpClient> client;
  SmtpClient::Callbacks cb;
  cb.on_ready = [out](SmtpClient* c) {
    if (out->done) {
      c->Quit();
      return;
    }
    out->ready = true;
    Transaction tx;
    tx.mail_from = "s@example.org";
    tx.rcpts = {"a@example.test", "b@example.test", "c@example.test"};
    tx.rcpt_index = {0, 1, 2};
    tx.data = "Subject: t\r\n\r\n.leading dot\r\nline\r\n..two";
    c->Send(std::move(tx));
  };
  cb.on_done = [out](SmtpClient*, Transaction&&, TransactionResult&& r) {
    out->done = true;
    out->replies = r.rcpt;
  };
  cb.on_closed = [out](SmtpClient* c, const Status& why) {
    out->closed = true;
    out->was_ready = c->was_ready();
    out->why = why;
  };
  client = std::make_unique<SmtpClient>(**base, policy, std::vector{*addr}, "", cb);
  client->Start();
  (*base)->RunUntil([out] { return out->closed; }, std::chrono::seconds(10));
  (void)pipelining;
}

TEST(SmtpClient, PerRecipientResultsPipelined) {
  ScriptedServer server(true, {"250 2.1.5 ok", "450 4.2.1 try later", "550 5.1.1 unknown"});
  Outcome out;
  RunTransaction(true, &out, &server, TestPolicy());
  ASSERT_TRUE(out.done);
  ASSERT_EQ(out.replies.size(), 3u);
  EXPECT_EQ(out.replies[0].code, 250);  // the final reply after the body
  EXPECT_EQ(out.replies[1].code, 450);
  EXPECT_EQ(out.replies[2].code, 550);
  EXPECT_EQ(out.replies[2].enhanced, "5.1.1");
  EXPECT_TRUE(out.closed);
  EXPECT_TRUE(out.why.ok()) << out.why.ToString();
  std::string got = server.received();
  EXPECT_NE(got.find("EHLO client.test\r\n"), std::string::npos);
  // Commands went out together, and the body is dot-stuffed with a final CRLF.
  EXPECT_NE(got.find("MAIL FROM:<s@example.org>\r\nRCPT TO:<a@example.test>\r\n"
                     "RCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n"),
            std::string::npos);
  EXPECT_NE(got.find("\r\n\r\n..leading dot\r\nline\r\n...two\r\n.\r\n"), std::string::npos);
  EXPECT_NE(got.find("QUIT\r\n"), std::string::npos);
}

TEST(SmtpClient, NoPipeliningStopsBeforeDataWhenAllRefused) {
  ScriptedServer server(false, {"550 no", "551 no", "552 no"});
  Outcome out;
  RunTransaction(false, &out, &server, TestPolicy());
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.replies[0].code, 550);
  EXPECT_EQ(out.replies[2].code, 552);
  std::string got = server.received();
  EXPECT_EQ(got.find("DATA\r\n"), std::string::npos);
  EXPECT_NE(got.find("RSET\r\n"), std::string::npos);
}

TEST(SmtpClient, SilentServerTimesOut) {
  ScriptedServer server(true, {}, /*hang=*/true);
  Outcome out;
  auto start = std::chrono::steady_clock::now();
  RunTransaction(true, &out, &server, TestPolicy());
  EXPECT_TRUE(out.closed);
  EXPECT_FALSE(out.was_ready);
  EXPECT_FALSE(out.why.ok());
  EXPECT_NE(out.why.message().find("timed out"), std::string::npos) << out.why.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(SmtpClient, RefusedConnectionIsAConnectFailure) {
  // A port nobody listens on: bind one, close it, use its number.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  auto addr = event::SocketAddress::ParseHostPort("127.0.0.1:" + std::to_string(ntohs(a.sin_port)));
  Outcome out;
  SmtpClient::Callbacks cb;
  cb.on_closed = [&out](SmtpClient* c, const Status& why) {
    out.closed = true;
    out.was_ready = c->was_ready();
    out.why = why;
  };
  SmtpClient client(**base, TestPolicy(), {*addr}, "", cb);
  client.Start();
  (*base)->RunUntil([&] { return out.closed; }, std::chrono::seconds(5));
  EXPECT_TRUE(out.closed);
  EXPECT_FALSE(out.was_ready);
  EXPECT_NE(out.why.message().find("failed"), std::string::npos) << out.why.ToString();
}

// ---- DSN parameters (RFC 3461) ----

// The command lines a server received, split at CRLF (a stray CR or LF inside a parameter would
// show up as an extra or broken line).
std::vector<std::string> Lines(const std::string& wire) {
  std::vector<std::string> out;
  size_t start = 0, eol;
  while ((eol = wire.find("\r\n", start)) != std::string::npos) {
    out.push_back(wire.substr(start, eol - start));
    start = eol + 2;
  }
  return out;
}

// An envelope with DSN data in awkward forms: recipient 0 has nothing, 1 asks SUCCESS,FAILURE
// with a stored xtext ORCPT, 2 asks NEVER with an ORCPT stored decoded (space, "+", "="), 3
// asks DELAY with an ORCPT that has no type.
std::shared_ptr<spool::SpooledMessage> DsnMessage() {
  auto m = std::make_shared<spool::SpooledMessage>();
  m->envelope.mail_from = "s@example.org";
  m->envelope.dsn_ret = spool::DsnRet::kHeaders;
  m->envelope.dsn_envid = "Q+2B1 a=b\r\nRCPT TO:<evil@x>";  // not xtext as a whole: encoded
  m->envelope.rcpts = {
      {.address = "plain@example.test"},
      {.address = "a@example.test",
       .orcpt = "rfc822;a+2Bext@example.test",
       .notify = spool::kNotifySuccess | spool::kNotifyFailure},
      {.address = "b@example.test",
       .orcpt = "rfc822;b c+d=e@example.test",
       .notify = spool::kNotifyNever},
      {.address = "c@example.test", .orcpt = "c@old.test", .notify = spool::kNotifyDelay},
  };
  m->states.resize(m->envelope.rcpts.size());
  return m;
}

struct DsnOutcome {
  bool done = false, closed = false;
  TransactionResult result;
};

// One transaction of recipients {3, 0, 2, 1} (out of envelope order, to check the mapping).
DsnOutcome RunDsnTransaction(ScriptedServer* server, bool eightbit) {
  DsnOutcome out;
  auto base = event::EventBase::Create();
  EXPECT_TRUE(base.ok());
  if (!base.ok()) return out;
  auto addr = event::SocketAddress::ParseHostPort("127.0.0.1:" + std::to_string(server->port()));
  EXPECT_TRUE(addr.ok());
  SmtpClient::Callbacks cb;
  cb.on_ready = [&out, eightbit](SmtpClient* c) {
    if (out.done) {
      c->Quit();
      return;
    }
    Transaction tx;
    tx.message = DsnMessage();
    tx.mail_from = tx.message->envelope.mail_from;
    tx.rcpt_index = {3, 0, 2, 1};
    for (uint32_t i : tx.rcpt_index) tx.rcpts.push_back(tx.message->envelope.rcpts[i].address);
    tx.data = "Subject: dsn\r\n\r\nbody\r\n";
    tx.eightbit = eightbit;
    c->Send(std::move(tx));
  };
  cb.on_done = [&out](SmtpClient*, Transaction&&, TransactionResult&& r) {
    out.done = true;
    out.result = std::move(r);
  };
  cb.on_closed = [&out](SmtpClient*, const Status&) { out.closed = true; };
  SmtpClient client(**base, TestPolicy(), {*addr}, "", cb);
  client.Start();
  (*base)->RunUntil([&] { return out.closed; }, std::chrono::seconds(10));
  return out;
}

TEST(SmtpClientDsn, ParametersGoToAServerThatOffersDsn) {
  ScriptedServer server(true, {}, false,
                        "250-test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 1000000\r\n"
                        "250 DSN\r\n");
  DsnOutcome out = RunDsnTransaction(&server, /*eightbit=*/true);
  ASSERT_TRUE(out.done);
  EXPECT_TRUE(out.result.dsn_supported);
  ASSERT_EQ(out.result.rcpt.size(), 4u);
  for (const ServerReply& r : out.result.rcpt) EXPECT_EQ(r.code, 250) << r.ToString();
  std::vector<std::string> lines = Lines(server.received());
  // EHLO, MAIL, 4 x RCPT, DATA, then the body; nothing split by a CR or LF from a parameter.
  ASSERT_GE(lines.size(), 7u);
  EXPECT_EQ(lines[0], "EHLO client.test");
  EXPECT_EQ(lines[1],
            "MAIL FROM:<s@example.org> BODY=8BITMIME SIZE=22 RET=HDRS "
            "ENVID=Q+2B2B1+20a+3Db+0D+0ARCPT+20TO:<evil@x>");
  EXPECT_EQ(lines[2], "RCPT TO:<c@example.test> NOTIFY=DELAY ORCPT=rfc822;c@old.test");
  EXPECT_EQ(lines[3], "RCPT TO:<plain@example.test>");
  EXPECT_EQ(lines[4],
            "RCPT TO:<b@example.test> NOTIFY=NEVER ORCPT=rfc822;b+20c+2Bd+3De@example.test");
  EXPECT_EQ(lines[5],
            "RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bext@example.test");
  EXPECT_EQ(lines[6], "DATA");
  for (const std::string& l : lines) EXPECT_NE(l.rfind("RCPT TO:<evil", 0), 0u) << l;
}

TEST(SmtpClientDsn, NoParametersWithoutDsn) {
  ScriptedServer server(true, {}, false,
                        "250-test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n");
  DsnOutcome out = RunDsnTransaction(&server, /*eightbit=*/true);
  ASSERT_TRUE(out.done);
  EXPECT_FALSE(out.result.dsn_supported);
  std::vector<std::string> lines = Lines(server.received());
  ASSERT_GE(lines.size(), 7u);
  // Everything else the client does stays: BODY, SIZE, pipelining.
  EXPECT_EQ(lines[1], "MAIL FROM:<s@example.org> BODY=8BITMIME SIZE=22");
  EXPECT_EQ(lines[2], "RCPT TO:<c@example.test>");
  EXPECT_EQ(lines[3], "RCPT TO:<plain@example.test>");
  EXPECT_EQ(lines[4], "RCPT TO:<b@example.test>");
  EXPECT_EQ(lines[5], "RCPT TO:<a@example.test>");
  EXPECT_EQ(lines[6], "DATA");
  for (const char* p : {"RET=", "ENVID=", "NOTIFY=", "ORCPT="}) {
    EXPECT_EQ(server.received().find(p), std::string::npos) << p;
  }
}

TEST(SmtpClientDsn, DsnWithoutPipeliningSendsOneCommandAtATime) {
  ScriptedServer server(false, {"250 ok", "550 5.1.1 no", "250 ok", "250 ok"}, false,
                        "250-test\r\n250 DSN\r\n");
  DsnOutcome out = RunDsnTransaction(&server, /*eightbit=*/true);
  ASSERT_TRUE(out.done);
  EXPECT_TRUE(out.result.dsn_supported);
  EXPECT_EQ(out.result.rcpt[1].code, 550);
  std::vector<std::string> lines = Lines(server.received());
  ASSERT_GE(lines.size(), 3u);
  // No 8BITMIME or SIZE offered: none sent, but the DSN parameters are.
  EXPECT_EQ(lines[1],
            "MAIL FROM:<s@example.org> RET=HDRS "
            "ENVID=Q+2B2B1+20a+3Db+0D+0ARCPT+20TO:<evil@x>");
  EXPECT_EQ(lines[2], "RCPT TO:<c@example.test> NOTIFY=DELAY ORCPT=rfc822;c@old.test");
}

TEST(SmtpClientDsn, MailParameters) {
  spool::Envelope e;
  EXPECT_EQ(DsnMailParameters(e), "");
  e.dsn_ret = spool::DsnRet::kFull;
  EXPECT_EQ(DsnMailParameters(e), " RET=FULL");
  e.dsn_envid = "abc+2B";  // stored xtext goes as it is
  EXPECT_EQ(DsnMailParameters(e), " RET=FULL ENVID=abc+2B");
  e.dsn_envid = "caf\xc3\xa9+";  // 8-bit and a lone "+": encoded
  EXPECT_EQ(DsnMailParameters(e), " RET=FULL ENVID=caf+C3+A9+2B");
  e.dsn_envid = "abc+2b";  // lower-case hex is not xtext: the "+" itself is encoded
  EXPECT_EQ(DsnMailParameters(e), " RET=FULL ENVID=abc+2B2b");
  e.dsn_ret = spool::DsnRet::kUnset;
  e.dsn_envid = std::string(100, 'x');
  std::string dropped;
  EXPECT_EQ(DsnMailParameters(e, &dropped), " ENVID=" + e.dsn_envid);
  EXPECT_EQ(dropped, "");
  e.dsn_envid = "";
  for (int i = 0; i < 100; ++i) e.dsn_envid += "+2B";  // 300 as xtext, 100 decoded: fine
  EXPECT_EQ(DsnMailParameters(e, &dropped), " ENVID=" + e.dsn_envid);
  EXPECT_EQ(dropped, "");
  e.dsn_envid = std::string(100, 'x') + " ";  // 101 decoded
  EXPECT_EQ(DsnMailParameters(e, &dropped), "");
  EXPECT_EQ(dropped, "ENVID (101 characters)");
}

TEST(SmtpClientDsn, RcptParameters) {
  spool::Recipient r{.address = "x@y"};
  EXPECT_EQ(DsnRcptParameters(r), "");
  r.notify = spool::kNotifyDelay | spool::kNotifyFailure | spool::kNotifySuccess;
  EXPECT_EQ(DsnRcptParameters(r), " NOTIFY=SUCCESS,FAILURE,DELAY");
  r.notify = spool::kNotifyNever | spool::kNotifySuccess;  // invalid mix: NEVER wins
  EXPECT_EQ(DsnRcptParameters(r), " NOTIFY=NEVER");
  r.notify = 0;
  r.orcpt = "utf-8;x\\x{E9}@y";
  EXPECT_EQ(DsnRcptParameters(r), " ORCPT=utf-8;x\\x{E9}@y");
  r.orcpt = "bad type;x@y";  // not an addr-type: the whole value becomes the address
  EXPECT_EQ(DsnRcptParameters(r), " ORCPT=rfc822;bad+20type;x@y");
  r.orcpt = "x@y";  // no type at all
  EXPECT_EQ(DsnRcptParameters(r), " ORCPT=rfc822;x@y");
  r.orcpt = "rfc822;" + std::string(493, 'a');  // exactly 500
  EXPECT_EQ(DsnRcptParameters(r), " ORCPT=" + r.orcpt);
  r.orcpt += "=";  // 503 once encoded
  std::string dropped;
  r.notify = spool::kNotifyFailure;
  EXPECT_EQ(DsnRcptParameters(r, &dropped), " NOTIFY=FAILURE");
  EXPECT_EQ(dropped, "ORCPT (503 characters)");
}

// Whatever bytes the store holds, every parameter is one KEY=VALUE token of printable ASCII
// without "=" in the value, and the ENVID decodes back to what was stored.
TEST(SmtpClientDsn, AnyStoredBytesMakeSafeParameters) {
  std::mt19937 rng(3461);
  for (int i = 0; i < 3000; ++i) {
    std::string raw(rng() % 40, '\0');
    for (char& c : raw) c = static_cast<char>(rng() % 256);
    spool::Envelope e;
    e.dsn_envid = raw;
    spool::Recipient r{.address = "x@y", .orcpt = raw, .notify = static_cast<uint8_t>(rng())};
    for (const std::string& params : {DsnMailParameters(e), DsnRcptParameters(r)}) {
      ASSERT_TRUE(params.empty() || params[0] == ' ');
      std::string rest = params.empty() ? "" : params.substr(1);
      while (!rest.empty()) {
        const size_t sp = rest.find(' ');
        const std::string token = rest.substr(0, sp);
        rest = sp == std::string::npos ? "" : rest.substr(sp + 1);
        const size_t eq = token.find('=');
        ASSERT_NE(eq, std::string::npos) << token;
        ASSERT_GT(eq, 0u) << token;
        for (size_t k = 0; k < token.size(); ++k) {
          const unsigned char c = static_cast<unsigned char>(token[k]);
          ASSERT_TRUE(c > 32 && c < 127 && (k == eq || c != '=')) << i << ": " << params;
        }
        if (token.rfind("ENVID=", 0) == 0) {
          // A stored value that happens to be valid xtext is taken as xtext.
          const std::string value = token.substr(6);
          ASSERT_EQ(smtp::IsXtext(raw) ? value : smtp::XtextDecode(value), raw);
        }
      }
    }
  }
}

}  // namespace
}  // namespace ec::outbound
