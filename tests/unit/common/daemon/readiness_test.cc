#include "common/daemon/readiness.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace ec::daemon {
namespace {

// A real AF_UNIX datagram socket standing in for systemd's notify socket; NOTIFY_SOCKET names
// it for the duration of a test.
class ReadinessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec-notify-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "notify").string();
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(dir_);
  }
  // The next datagram, or "" when none arrives within `timeout_ms`.
  std::string Receive(int timeout_ms = 2000) {
    pollfd p{.fd = fd_, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1) return "";
    char buf[512];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  std::filesystem::path dir_;
  std::string path_;
  int fd_ = -1;
};

TEST_F(ReadinessTest, ReadySendsReadyDatagram) {
  NotifyReady();
  EXPECT_EQ(Receive(), "READY=1");
  // The environment is left alone: a later report still reaches the manager.
  ASSERT_NE(getenv("NOTIFY_SOCKET"), nullptr);
  NotifyStopping();
  EXPECT_EQ(Receive(), "STOPPING=1");
}

TEST_F(ReadinessTest, ReloadNoticeBracketsReload) {
  {
    ReloadNotice reloading;
    EXPECT_EQ(Receive(), "RELOADING=1");
    EXPECT_EQ(Receive(50), "");  // not ready again until the reload ends
  }
  EXPECT_EQ(Receive(), "READY=1");
}

TEST_F(ReadinessTest, ArbitraryStateIsSentVerbatim) {
  ASSERT_TRUE(NotifyServiceManager("STATUS=spool recovered\nREADY=1").ok());
  EXPECT_EQ(Receive(), "STATUS=spool recovered\nREADY=1");
}

TEST_F(ReadinessTest, NoSocketIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifyServiceManager("READY=1").ok());
  NotifyReady();
  EXPECT_EQ(Receive(50), "");
}

TEST_F(ReadinessTest, UnreachableSocketIsAnError) {
  setenv("NOTIFY_SOCKET", (dir_ / "nobody-listens").c_str(), 1);
  Status s = NotifyServiceManager("READY=1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NOTIFY_SOCKET"), std::string::npos) << s.message();
  NotifyReady();  // logged, not fatal
}

}  // namespace
}  // namespace ec::daemon
