// The control server and client over real sockets: a unix socket in a temporary directory and
// TCP on 127.0.0.1 port 0. The server's loop runs on its own thread; the test is the client.
#include "common/control/server.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/control/client.h"
#include "common/daemon/unique_fd.h"
#include "common/event/address.h"
#include "tests/unit/common/control/control_test_util.h"

namespace ec::control {
namespace {

using daemon::UniqueFd;
using std::chrono::milliseconds;
using test_util::kTimeout;
using test_util::kUsers;
const Credentials kAdmin{"admin", "s3cret"};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    socket_path_ = (dir_ / "ec_console.sock").string();
  }

  void StartServer(ServerOptions options = {}) {
    options.unix_path = socket_path_;
    options.tcp_address = "127.0.0.1:0";
    options.version = "ecmta-test 9.9";
    if (!options.tcp_users) options.tcp_users = *auth::PasswordFile::Parse(kUsers, "users");
    auto base = event::EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    auto server = Server::Start(*base_, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    tcp_endpoint_ = server_->tcp_address()->ToString();
    CommandRegistry& c = server_->commands();
    ASSERT_TRUE(
        c.RegisterSync("echo", "repeat the arguments", [](const Request& r) -> Result<std::string> {
           return r.args;
         }).ok());
    ASSERT_TRUE(
        c.Register("fanout", "answer from another thread", [this](const Request&, Reply reply) {
           threads_.emplace_back([reply] { reply.Ok("gathered"); });
         }).ok());
    ASSERT_TRUE(
        c.Register("hold", "answer when the test says so", [this](const Request&, Reply reply) {
           std::lock_guard<std::mutex> lock(mu_);
           held_.emplace(reply);
           cv_.notify_all();
         }).ok());
    ASSERT_TRUE(c.Register("boom", "throw", [](const Request&, Reply) {
                   throw std::runtime_error("kaboom");
                 }).ok());
    ASSERT_TRUE(c.Register("forget", "never answer", [](const Request&, Reply) {}).ok());
    loop_ = std::thread([this] { EXPECT_TRUE(base_->Run().ok()); });
  }

  void TearDown() override {
    if (loop_.joinable()) {
      base_->Stop();
      loop_.join();
    }
    for (auto& t : threads_) t.join();
    held_.reset();
    server_.reset();
    base_.reset();
    std::filesystem::remove_all(dir_);
  }

  bool WaitForHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kTimeout, [this] { return held_.has_value(); });
  }

  // A plain blocking socket, for byte-level tests the Client would hide.
  UniqueFd RawConnect() {
    auto address = event::SocketAddress::Parse(socket_path_);
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_EQ(connect(fd.get(), address->get(), address->size()), 0);
    timeval tv{10, 0};  // bounds every read below
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
  }

  void SendRaw(const UniqueFd& fd, std::string_view data) {
    ASSERT_EQ(send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }

  // Reads until the server closes (or the receive timeout), returns the responses and whether
  // the connection ended with EOF.
  std::vector<Response> ReadUntilClosed(const UniqueFd& fd, bool* closed) {
    ResponseParser parser;
    std::vector<Response> out;
    *closed = false;
    char buf[4096];
    for (int i = 0; i < 10000; ++i) {
      ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
      if (n == 0) *closed = true;
      if (n <= 0) break;
      parser.Append(std::string_view(buf, static_cast<size_t>(n)));
    }
    for (;;) {
      auto r = parser.Pop();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || !*r) break;
      out.push_back(**r);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string socket_path_;
  std::string tcp_endpoint_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<Server> server_;
  std::thread loop_;
  std::vector<std::thread> threads_;  // touched on the loop thread, joined after it stops
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Reply> held_;
};

TEST_F(ControlServerTest, SeveralCommandsPerUnixConnection) {
  StartServer();
  auto client = Client::Connect(socket_path_, kTimeout);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto version = (*client)->Send("version", kTimeout);
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_TRUE(version->ok);
  EXPECT_EQ(version->text, "ecmta-test 9.9\n");
  auto echo = (*client)->Send("echo hello   world", kTimeout);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->text, "hello   world\n");
  auto help = (*client)->Send("HELP", kTimeout);
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->ok);
  for (const char* name : {"echo", "fanout", "help", "quit", "version"}) {
    EXPECT_NE(help->text.find("  " + std::string(name) + " "), std::string::npos) << name;
  }
  EXPECT_NE(help->text.find("repeat the arguments"), std::string::npos);
}

TEST_F(ControlServerTest, SeveralCommandsPerTcpConnection) {
  StartServer();
  EXPECT_EQ(tcp_endpoint_.rfind("127.0.0.1:", 0), 0u);
  auto client = Client::Connect(tcp_endpoint_, kTimeout);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Login(kAdmin.user, kAdmin.password, kTimeout).ok());
  for (int i = 0; i < 3; ++i) {
    auto echo = (*client)->Send("echo " + std::to_string(i), kTimeout);
    ASSERT_TRUE(echo.ok());
    EXPECT_EQ(echo->text, std::to_string(i) + "\n");
  }
  EXPECT_EQ(*RunCommand(tcp_endpoint_, "version", kTimeout, kAdmin), "ecmta-test 9.9\n");
}

TEST_F(ControlServerTest, UnknownCommandIsAClearError) {
  StartServer();
  auto result = RunCommand(socket_path_, "frobnicate the queue", kTimeout);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "unknown command \"frobnicate\"; \"help\" lists the commands");
  // The session survives an unknown command.
  auto client = Client::Connect(socket_path_, kTimeout);
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->Send("nosuch", kTimeout)->ok);
  EXPECT_EQ((*client)->Send("echo still here", kTimeout)->text, "still here\n");
}

TEST_F(ControlServerTest, AsyncReplyFromAnotherThread) {
  StartServer();
  EXPECT_EQ(*RunCommand(socket_path_, "fanout", kTimeout), "gathered\n");
}

TEST_F(ControlServerTest, DeferredReplyKeepsPipelinedRequestsInOrder) {
  StartServer();
  UniqueFd fd = RawConnect();
  SendRaw(fd, "hold\necho after\n");
  ASSERT_TRUE(WaitForHeld());
  base_->RunInLoop([this] { held_->Ok("released"); });
  shutdown(fd.get(), SHUT_WR);  // batch style: the session closes after answering everything
  bool closed = false;
  auto responses = ReadUntilClosed(fd, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].text, "released\n");
  EXPECT_EQ(responses[1].text, "after\n");
}

TEST_F(ControlServerTest, LateReplyToAClosedSessionIsDropped) {
  StartServer();
  {
    UniqueFd fd = RawConnect();
    SendRaw(fd, "hold\n");
    ASSERT_TRUE(WaitForHeld());
  }  // the client goes away while its command is still running
  base_->RunInLoop([this] { held_->Ok("too late"); });
  EXPECT_EQ(*RunCommand(socket_path_, "echo still serving", kTimeout), "still serving\n");
}

TEST_F(ControlServerTest, BatchRequestsWithHalfClose) {
  StartServer();
  UniqueFd fd = RawConnect();
  SendRaw(fd, "echo a\r\n\n   \nnosuch\necho b\n");
  shutdown(fd.get(), SHUT_WR);
  bool closed = false;
  auto responses = ReadUntilClosed(fd, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 3u);  // blank lines get no response
  EXPECT_EQ(responses[0].text, "a\n");
  EXPECT_FALSE(responses[1].ok);
  EXPECT_EQ(responses[2].text, "b\n");
}

TEST_F(ControlServerTest, HandlerFailuresBecomeErrorsNotCrashes) {
  StartServer();
  auto client = Client::Connect(socket_path_, kTimeout);
  ASSERT_TRUE(client.ok());
  auto boom = (*client)->Send("boom", kTimeout);
  ASSERT_TRUE(boom.ok());
  EXPECT_FALSE(boom->ok);
  EXPECT_EQ(boom->text, "internal error: kaboom\n");
  auto forget = (*client)->Send("forget", kTimeout);
  ASSERT_TRUE(forget.ok());
  EXPECT_FALSE(forget->ok);
  EXPECT_NE(forget->text.find("no reply"), std::string::npos);
  EXPECT_EQ((*client)->Send("echo alive", kTimeout)->text, "alive\n");
}

TEST_F(ControlServerTest, OversizedLineIsRefusedAndClosed) {
  ServerOptions options;
  options.max_request_line = 64;
  StartServer(options);
  UniqueFd fd = RawConnect();
  SendRaw(fd, "echo " + std::string(100, 'a') + "\necho never\n");
  bool closed = false;
  auto responses = ReadUntilClosed(fd, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_FALSE(responses[0].ok);
  EXPECT_EQ(responses[0].text, "request line longer than 64 bytes; closing the session\n");
}

TEST_F(ControlServerTest, OversizedLineWithoutNewline) {
  ServerOptions options;
  options.max_request_line = 64;
  StartServer(options);
  UniqueFd fd = RawConnect();
  SendRaw(fd, std::string(1000, 'x'));
  bool closed = false;
  auto responses = ReadUntilClosed(fd, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_NE(responses[0].text.find("longer than 64 bytes"), std::string::npos);
}

TEST_F(ControlServerTest, IdleSessionTimesOut) {
  ServerOptions options;
  options.idle_timeout = milliseconds(200);
  StartServer(options);
  UniqueFd fd = RawConnect();
  SendRaw(fd, "echo first\n");
  bool closed = false;
  auto responses = ReadUntilClosed(fd, &closed);  // returns once the server gives up on us
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].text, "first\n");
  EXPECT_FALSE(responses[1].ok);
  EXPECT_EQ(responses[1].text, "idle timeout (200 ms); closing the session\n");
}

TEST_F(ControlServerTest, QuitEndsTheSession) {
  StartServer();
  auto client = Client::Connect(socket_path_, kTimeout);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Send("quit", kTimeout)->text, "bye\n");
  auto after = (*client)->Send("version", kTimeout);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
}

TEST_F(ControlServerTest, TooManySessionsRefused) {
  ServerOptions options;
  options.max_sessions = 1;
  StartServer(options);
  auto first = Client::Connect(socket_path_, kTimeout);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Send("version", kTimeout).ok());  // the first session is established
  UniqueFd second = RawConnect();
  bool closed = false;
  auto responses = ReadUntilClosed(second, &closed);
  EXPECT_TRUE(closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_NE(responses[0].text.find("too many console sessions"), std::string::npos);
  EXPECT_EQ((*first)->Send("echo ok", kTimeout)->text, "ok\n");
}

TEST_F(ControlServerTest, SecondServerOnSameSocketRefused) {
  StartServer();
  auto other_base = event::EventBase::Create();
  ASSERT_TRUE(other_base.ok());
  ServerOptions options;
  options.unix_path = socket_path_;
  auto second = Server::Start(**other_base, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(ControlServerTest, InteractiveLoopPrintsResponses) {
  StartServer();
  std::istringstream in("echo one\n\n# a comment\nnosuch\n  echo two  \nquit\necho never\n");
  std::ostringstream out;
  std::ostringstream err;
  InteractiveOptions options;
  options.timeout = kTimeout;
  int rc = InteractiveLoop(socket_path_, in, out, err, options);
  EXPECT_EQ(rc, 1);  // one command failed
  EXPECT_EQ(out.str(), "one\ntwo\n");
  EXPECT_EQ(err.str(), "error: unknown command \"nosuch\"; \"help\" lists the commands\n");
}

TEST_F(ControlServerTest, InteractiveLoopWithPrompt) {
  StartServer();
  std::istringstream in("version\n");
  std::ostringstream out;
  std::ostringstream err;
  InteractiveOptions options;
  options.show_prompt = true;
  options.timeout = kTimeout;
  options.credentials = kAdmin;
  EXPECT_EQ(InteractiveLoop(tcp_endpoint_, in, out, err, options), 0);
  EXPECT_EQ(out.str(), "ec> ecmta-test 9.9\nec> \n");
  EXPECT_EQ(err.str(), "");
}

TEST(ControlClient, NobodyListening) {
  std::istringstream in("version\n");
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(InteractiveLoop("/tmp/ec-no-such-dir-xyz/ec_console.sock", in, out, err), 2);
  EXPECT_NE(err.str().find("ec-no-such-dir-xyz"), std::string::npos) << err.str();
  auto result = RunCommand("/tmp/ec-no-such-dir-xyz/ec_console.sock", "version");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  auto bad = RunCommand("not an endpoint", "version");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ec::control
