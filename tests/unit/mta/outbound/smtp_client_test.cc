// SmtpClient against a scripted server on 127.0.0.1 (a plain blocking socket on a thread).
#include "mta/outbound/smtp_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace ec::outbound {
namespace {

// Accepts one connection and answers each command line with the next reply that matches its
// verb; records what the client sent. `hang` stops answering after the greeting.
class ScriptedServer {
 public:
  ScriptedServer(bool pipelining, std::vector<std::string> rcpt_replies, bool hang = false)
      : pipelining_(pipelining), rcpt_replies_(std::move(rcpt_replies)), hang_(hang) {
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
        if (verb == "EHLO") {
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

}  // namespace
}  // namespace ec::outbound
