// Console authentication over real sockets: a TCP session runs nothing before `login`, a good
// login sets Request::principal, failures are delayed, close the session and block the address;
// a unix-socket request carries the peer's uid, and the socket gets its mode and group.
#include <grp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "common/control/client.h"
#include "common/control/server.h"
#include "tests/unit/common/control/control_test_util.h"

namespace ec::control {
namespace {

using std::chrono::milliseconds;
using test_util::kTimeout;
using test_util::kUsers;

class ServerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ectest-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    options_.unix_path = (dir_ / "ec_console.sock").string();
    options_.tcp_address = "127.0.0.1:0";
    options_.tcp_users = *auth::PasswordFile::Parse(kUsers, "users");
    options_.login_failure_delay = milliseconds(20);
  }

  void Start() {
    base_ = event::EventBase::Create().value();
    auto server = Server::Start(*base_, options_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    tcp_ = server_->tcp_address()->ToString();
    ASSERT_TRUE(
        server_->commands()
            .RegisterSync("whoami", "the principal",
                          [](const Request& r) -> Result<std::string> { return r.principal; })
            .ok());
    ASSERT_TRUE(server_->commands()
                    .RegisterSync("shutdown", "stop",
                                  [this](const Request&) -> Result<std::string> {
                                    ++shutdowns_;
                                    return std::string("shutting down");
                                  })
                    .ok());
    loop_ = std::thread([this] { EXPECT_TRUE(base_->Run().ok()); });
  }

  void TearDown() override {
    if (loop_.joinable()) {
      base_->Stop();
      loop_.join();
    }
    server_.reset();
    base_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Client> Connect() {
    auto client = Client::Connect(tcp_, kTimeout);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // Collects what the server reports for the acctlog (called on the loop thread).
  void RecordAccounting() {
    options_.on_accounting = [this](const AccountingEvent& e) {
      std::lock_guard<std::mutex> lock(accounting_mu_);
      accounting_.push_back(e);
    };
  }
  std::vector<AccountingEvent> Accounted() {
    std::lock_guard<std::mutex> lock(accounting_mu_);
    return accounting_;
  }

  std::mutex accounting_mu_;
  std::vector<AccountingEvent> accounting_;
  std::filesystem::path dir_;
  ServerOptions options_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<Server> server_;
  std::string tcp_;
  std::thread loop_;
  std::atomic<int> shutdowns_{0};
};

TEST_F(ServerAuthTest, TcpRunsNothingBeforeLogin) {
  Start();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  for (const char* command : {"shutdown", "help", "version", "whoami"}) {
    auto r = client->Send(command, kTimeout);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->ok) << command;
    EXPECT_NE(r->text.find("not logged in"), std::string::npos) << r->text;
  }
  EXPECT_EQ(shutdowns_.load(), 0);
  auto quit = client->Send("quit", kTimeout);
  ASSERT_TRUE(quit.ok());
  EXPECT_TRUE(quit->ok);
  auto r = RunCommand(tcp_, "shutdown", kTimeout);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(shutdowns_.load(), 0);
}

TEST_F(ServerAuthTest, GoodLoginSetsTheUserPrincipal) {
  Start();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Login("admin", "s3cret", kTimeout).ok());
  EXPECT_EQ(client->Send("whoami", kTimeout)->text, "user:admin\n");
  auto again = client->Send("login admin s3cret", kTimeout);
  EXPECT_FALSE(again->ok) << "one login per session";
  EXPECT_EQ(*RunCommand(tcp_, "shutdown", kTimeout, {"admin", "s3cret"}), "shutting down\n");
  EXPECT_EQ(shutdowns_.load(), 1);
}

TEST_F(ServerAuthTest, FailuresAreRefusedThenTheSessionCloses) {
  Start();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  for (const char* password : {"S3cret", "s3cret ", ""}) {
    Status s =
        client->Login(password[0] ? "admin" : "nobody", password[0] ? password : "x", kTimeout);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  }
  EXPECT_FALSE(client->Send("whoami", kTimeout).ok()) << "closed after 3 failures";
  EXPECT_EQ(RunCommand(tcp_, "shutdown", kTimeout, {"admin", "wrong"}).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(shutdowns_.load(), 0);
}

TEST_F(ServerAuthTest, AnAddressWithTooManyFailuresIsBlockedEvenWithTheRightPassword) {
  options_.login_failures_per_peer = 2;
  Start();
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(RunCommand(tcp_, "whoami", kTimeout, {"admin", "guess"}).ok());
  }
  auto blocked = RunCommand(tcp_, "whoami", kTimeout, {"admin", "s3cret"});
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.status().message().find("too many failed logins"), std::string::npos)
      << blocked.status().ToString();
}

TEST_F(ServerAuthTest, UnixRequestsCarryThePeerUid) {
  Start();
  EXPECT_EQ(*RunCommand(options_.unix_path, "whoami", kTimeout),
            "uid:" + std::to_string(getuid()) + "\n");
}

TEST_F(ServerAuthTest, UnixSocketGetsItsModeAndGroup) {
  options_.unix_mode = 0640;
  // Root may give the socket any group; anyone else one of their own.
  gid_t group = getgid();
  if (geteuid() == 0) {
    if (const ::group* g = getgrnam("nogroup")) group = g->gr_gid;
  }
  options_.unix_group = group;
  Start();
  struct stat st {};
  ASSERT_EQ(stat(options_.unix_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, group);
}

// What the acctlog gets: every TCP login (N) and every command a session asked to run (Z), with
// the listener, the client's address and the user.
TEST_F(ServerAuthTest, LoginsAndCommandsAreReportedForTheAcctlog) {
  RecordAccounting();
  Start();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->Send("shutdown", kTimeout)->ok);
  EXPECT_EQ(client->Login("admin", "wrong", kTimeout).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(client->Login("admin", "s3cret", kTimeout).ok());
  EXPECT_TRUE(client->Send("whoami", kTimeout)->ok);
  EXPECT_TRUE(client->Send("quit", kTimeout)->ok);  // not an authorization
  EXPECT_EQ(*RunCommand(options_.unix_path, "whoami", kTimeout),
            "uid:" + std::to_string(getuid()) + "\n");

  using Kind = AccountingEvent::Kind;
  std::vector<AccountingEvent> events = Accounted();
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(events[i].listener, tcp_) << i;
    EXPECT_EQ(events[i].peer.rfind("127.0.0.1:", 0), 0u) << events[i].peer;
    EXPECT_NE(events[i].peer, tcp_);
  }
  EXPECT_EQ(events[0].kind, Kind::kAuthorization);
  EXPECT_EQ(events[0].user, "");
  EXPECT_FALSE(events[0].allowed);
  EXPECT_EQ(events[0].command, "shutdown");
  EXPECT_EQ(events[1].kind, Kind::kAuthentication);
  EXPECT_EQ(events[1].user, "admin");
  EXPECT_FALSE(events[1].allowed);
  EXPECT_EQ(events[2].kind, Kind::kAuthentication);
  EXPECT_EQ(events[2].user, "admin");
  EXPECT_TRUE(events[2].allowed);
  EXPECT_EQ(events[3].kind, Kind::kAuthorization);
  EXPECT_EQ(events[3].user, "admin");
  EXPECT_TRUE(events[3].allowed);
  EXPECT_EQ(events[3].command, "whoami");
  EXPECT_EQ(events[4].kind, Kind::kAuthorization);
  EXPECT_EQ(events[4].listener, options_.unix_path);
  EXPECT_EQ(events[4].peer, "");
  EXPECT_EQ(events[4].user, "uid:" + std::to_string(getuid()));
  EXPECT_TRUE(events[4].allowed);
  EXPECT_EQ(shutdowns_.load(), 0);
}

// A login refused because the address has failed too often is reported as refused too.
TEST_F(ServerAuthTest, ABlockedLoginIsReportedAsRefused) {
  options_.login_failures_per_peer = 1;
  RecordAccounting();
  Start();
  EXPECT_FALSE(RunCommand(tcp_, "whoami", kTimeout, {"admin", "guess"}).ok());
  EXPECT_FALSE(RunCommand(tcp_, "whoami", kTimeout, {"admin", "s3cret"}).ok());
  std::vector<AccountingEvent> events = Accounted();
  ASSERT_EQ(events.size(), 2u);
  for (const AccountingEvent& e : events) {
    EXPECT_EQ(e.kind, AccountingEvent::Kind::kAuthentication);
    EXPECT_EQ(e.user, "admin");
    EXPECT_FALSE(e.allowed);
  }
}

TEST(ServerAuthStart, TcpWithoutUsersIsRefused) {
  auto base = event::EventBase::Create().value();
  auto server = Server::Start(*base, {.tcp_address = "127.0.0.1:0"});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("AuthLoginParameters"), std::string::npos);
}

}  // namespace
}  // namespace ec::control
