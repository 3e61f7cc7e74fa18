#include "common/event/listener.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/daemon/unique_fd.h"
#include "common/log/logger.h"

namespace ec::event {
namespace {

using daemon::UniqueFd;
constexpr std::chrono::milliseconds kListenDeadline(10000);

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(base).value();
    char tmpl[] = "/tmp/ec-listen-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  UniqueFd ConnectTo(const SocketAddress& address) {
    UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(connect(fd.get(), address.get(), address.size()), 0) << strerror(errno);
    return fd;
  }

  std::unique_ptr<EventBase> base_;
  std::filesystem::path dir_;
};

TEST_F(ListenerTest, TcpPortZeroAcceptsConnections) {
  std::vector<UniqueFd> accepted;
  std::string peer;
  auto listener = Listener::Create(*base_, *SocketAddress::Parse("127.0.0.1:0"),
                                   [&](int fd, const SocketAddress& from) {
                                     accepted.emplace_back(fd);
                                     peer = from.host();
                                   });
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  const SocketAddress& bound = (*listener)->address();
  EXPECT_NE(bound.port(), 0);
  EXPECT_EQ(bound.host(), "127.0.0.1");
  UniqueFd client = ConnectTo(bound);
  ASSERT_TRUE(base_->RunUntil([&] { return accepted.size() == 1; }, kListenDeadline));
  EXPECT_EQ(peer, "127.0.0.1");
  // The accepted descriptor is a live connection to the client.
  ASSERT_EQ(write(client.get(), "x", 1), 1);
  char c = 0;
  int flags = fcntl(accepted[0].get(), F_GETFL);
  EXPECT_TRUE(flags & O_NONBLOCK);
  fcntl(accepted[0].get(), F_SETFL, flags & ~O_NONBLOCK);
  ASSERT_EQ(read(accepted[0].get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST_F(ListenerTest, TcpPortInUseIsAnError) {
  auto first = Listener::Create(*base_, *SocketAddress::Parse("127.0.0.1:0"),
                                [](int fd, const SocketAddress&) { close(fd); });
  ASSERT_TRUE(first.ok());
  auto second = Listener::Create(*base_, (*first)->address(),
                                 [](int fd, const SocketAddress&) { close(fd); });
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("bind 127.0.0.1:"), std::string::npos);
}

TEST_F(ListenerTest, UnixSocketWithModeRemovedOnDestruction) {
  const std::string path = (dir_ / "ctl.sock").string();
  int accepted = 0;
  ListenerOptions options;
  options.unix_mode = 0600;
  auto listener = Listener::Create(
      *base_, *SocketAddress::Parse(path),
      [&](int fd, const SocketAddress& from) {
        EXPECT_TRUE(from.is_unix());
        ++accepted;
        close(fd);
      },
      options);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  UniqueFd client = ConnectTo((*listener)->address());
  ASSERT_TRUE(base_->RunUntil([&] { return accepted == 1; }, kListenDeadline));
  listener->reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ListenerTest, StaleUnixSocketIsReplacedLiveOneIsNot) {
  const std::string path = (dir_ / "ctl.sock").string();
  auto address = *SocketAddress::Parse(path);
  {
    // A socket file whose owner died without removing it.
    UniqueFd dead(socket(AF_UNIX, SOCK_STREAM, 0));
    ASSERT_EQ(bind(dead.get(), address.get(), address.size()), 0);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto noop = [](int fd, const SocketAddress&) { close(fd); };
  auto listener = Listener::Create(*base_, address, noop);
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  auto second = Listener::Create(*base_, address, noop);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("another process is listening"), std::string::npos);
}

TEST_F(ListenerTest, RefusesToReplaceARegularFile) {
  const std::string path = (dir_ / "not-a-socket").string();
  { std::ofstream(path) << "data"; }
  auto listener = Listener::Create(*base_, *SocketAddress::Parse(path),
                                   [](int fd, const SocketAddress&) { close(fd); });
  ASSERT_FALSE(listener.ok());
  EXPECT_NE(listener.status().message().find("not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(path));
}

// EC_SANITIZE builds ASan and UBSan together; UBSan's vptr check needs a pipe(2) to probe
// memory, which fails once descriptors run out, and then reports a false error.
#if defined(__SANITIZE_ADDRESS__)
#define EC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EC_SANITIZED 1
#endif
#endif

TEST_F(ListenerTest, OutOfDescriptorsPausesThenResumes) {
#ifdef EC_SANITIZED
  GTEST_SKIP() << "descriptor exhaustion breaks the sanitizers' own checks";
#endif
  // The child runs the listener with room for one more descriptor; the parent connects twice.
  const std::string log_path = (dir_ / "child.log").string();
  int port_pipe[2];
  ASSERT_EQ(pipe(port_pipe), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (!log::Logger::Global().LogToFile(log_path).ok()) _exit(10);
    std::vector<UniqueFd> accepted;
    auto listener =
        Listener::Create(*base_, *SocketAddress::Parse("127.0.0.1:0"),
                         [&](int fd, const SocketAddress&) { accepted.emplace_back(fd); });
    if (!listener.ok()) _exit(11);
    UniqueFd log_fd(open(log_path.c_str(), O_RDONLY | O_CLOEXEC));
    int next_free = dup(0);
    close(next_free);
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = static_cast<rlim_t>(next_free + 1);  // exactly one more descriptor
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(12);
    uint16_t port = (*listener)->address().port();
    if (write(port_pipe[1], &port, sizeof(port)) != sizeof(port)) _exit(13);
    auto paused = [&] {  // reads through a descriptor opened before the limit was set
      char buf[4096];
      ssize_t n = pread(log_fd.get(), buf, sizeof(buf), 0);
      return n > 0 && std::string_view(buf, static_cast<size_t>(n))
                              .find("accept failed; pausing listener") != std::string_view::npos;
    };
    if (!base_->RunUntil([&] { return accepted.size() == 1 && paused(); }, kListenDeadline)) _exit(14);
    accepted.clear();  // descriptors free again: the paused listener must come back
    if (!base_->RunUntil([&] { return accepted.size() == 1; }, kListenDeadline)) _exit(15);
    _exit(0);
  }
  uint16_t port = 0;
  ASSERT_EQ(read(port_pipe[0], &port, sizeof(port)), static_cast<ssize_t>(sizeof(port)));
  auto address = *SocketAddress::Parse("127.0.0.1:" + std::to_string(port));
  UniqueFd first = ConnectTo(address);
  UniqueFd second = ConnectTo(address);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(port_pipe[0]);
  close(port_pipe[1]);
}

}  // namespace
}  // namespace ec::event
