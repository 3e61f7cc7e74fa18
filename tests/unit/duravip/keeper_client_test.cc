// KeeperClient against a Keeper (FakePlumber) on a socketpair, against a peer that never answers,
// and spawning: a missing binary, and the real ec_duravip_keeper (found through EC_BINARY_DIR;
// it only lists and leases here, so no privilege is needed).
#include "duravip/keeper_client.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "duravip/keeper.h"
#include "tests/unit/duravip/vip_test_util.h"

namespace ec::duravip {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

class DuravipKeeperClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    theirs_.Reset(sv[1]);
    client_ = std::make_unique<KeeperClient>(daemon::UniqueFd(sv[0]), -1, milliseconds(2000));
    served_ = std::async(std::launch::async, [this] { return keeper_.Serve(theirs_.get()); });
  }
  void TearDown() override {
    client_.reset();  // EOF ends Serve
    served_.wait();
  }

  FakePlumber plumber_;
  Keeper keeper_{&plumber_};
  daemon::UniqueFd theirs_;
  std::unique_ptr<KeeperClient> client_;
  std::future<Status> served_;
};

TEST_F(DuravipKeeperClientTest, EveryCall) {
  const VipAddress a = Vip("198.18.0.100/24", "eth1");
  const VipAddress b = Vip("2001:db8::1/64", "eth1");
  EXPECT_TRUE(client_->Add(a).ok());
  EXPECT_TRUE(client_->Add(b).ok());
  auto held = client_->Held();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_THAT(*held, ElementsAre(a, b));
  EXPECT_TRUE(client_->Announce(a, 2).ok());
  EXPECT_EQ(plumber_.announced(), 2u);
  EXPECT_TRUE(client_->Remove(a).ok());
  EXPECT_TRUE(client_->Remove(a).ok());  // absent: fine
  auto flushed = client_->Flush(b);
  ASSERT_TRUE(flushed.ok());
  EXPECT_TRUE(*flushed);
  flushed = client_->Flush(b);
  ASSERT_TRUE(flushed.ok());
  EXPECT_FALSE(*flushed);
  auto renewed = client_->Renew(milliseconds(5000));
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(*renewed);
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
}

TEST_F(DuravipKeeperClientTest, KeeperErrorsKeepTheirCodeAndText) {
  plumber_.FailNext("add", Status(StatusCode::kPermissionDenied,
                                  "adding 198.18.0.100/24 on eth1 needs CAP_NET_ADMIN"));
  const Status s = client_->Add(Vip("198.18.0.100/24", "eth1"));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "adding 198.18.0.100/24 on eth1 needs CAP_NET_ADMIN");
  EXPECT_TRUE(client_->usable());  // an error reply is not a broken keeper
  EXPECT_TRUE(client_->Renew(milliseconds(0)).ok());
  EXPECT_EQ(client_->Announce(Vip("198.18.0.100/24", "eth1"), 0).code(),
            StatusCode::kInvalidArgument);  // the keeper refuses count 0
  EXPECT_EQ(client_->Renew(milliseconds(-1)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DuravipKeeperClientTest, LeaseExpiryIsReportedByRenew) {
  ASSERT_TRUE(client_->Renew(milliseconds(100)).ok());
  ASSERT_TRUE(client_->Add(Vip("198.18.0.100/24", "eth1")).ok());
  const auto deadline = Clock::now() + milliseconds(5000);
  while (!plumber_.addresses().empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_THAT(plumber_.addresses(), IsEmpty());
  // The renew that meets the notice says false, and is sent again so the lease runs.
  auto renewed = client_->Renew(milliseconds(5000));
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_FALSE(*renewed);
  EXPECT_FALSE(client_->TakeLeaseExpired());
  renewed = client_->Renew(milliseconds(5000));
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(*renewed);
}

TEST_F(DuravipKeeperClientTest, ExpiryNoticedByAnotherCallReachesRenew) {
  ASSERT_TRUE(client_->Renew(milliseconds(50)).ok());
  ASSERT_TRUE(client_->Add(Vip("198.18.0.100/24", "eth1")).ok());
  const auto deadline = Clock::now() + milliseconds(5000);
  while (!plumber_.addresses().empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  const Status s = client_->Add(Vip("198.18.0.101/24", "eth1"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("lease lapsed"));
  EXPECT_THAT(plumber_.addresses(), IsEmpty());  // not carried out
  auto renewed = client_->Renew(milliseconds(0));
  ASSERT_TRUE(renewed.ok());
  EXPECT_FALSE(*renewed);
}

TEST(DuravipKeeperClientTimeoutTest, ASilentKeeperIsAnErrorNotAHang) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  daemon::UniqueFd silent(sv[1]);
  KeeperClient client(daemon::UniqueFd(sv[0]), -1, milliseconds(200));
  const auto start = Clock::now();
  const Status s = client.Add(Vip("198.18.0.100/24", "eth1"));
  const auto took = Clock::now() - start;
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("no reply within 200 ms"));
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(2000));
  // The client gave up on this keeper: its socket is closed (the keeper sees EOF and cleans
  // up), and later calls fail at once.
  EXPECT_FALSE(client.usable());
  std::string seen;
  char buf[256];
  for (ssize_t n; (n = read(silent.get(), buf, sizeof(buf))) > 0;) seen.append(buf, n);
  EXPECT_EQ(seen, "add 198.18.0.100/24 eth1\n");  // then EOF
  EXPECT_EQ(client.Held().status().code(), StatusCode::kUnavailable);
}

TEST(DuravipKeeperClientTimeoutTest, GarbageRepliesBreakTheClient) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  daemon::UniqueFd peer(sv[1]);
  KeeperClient client(daemon::UniqueFd(sv[0]), -1, milliseconds(2000));
  ASSERT_EQ(write(peer.get(), "hello there\n", 12), 12);
  const Status s = client.Renew(milliseconds(10)).status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("not a keeper reply"));
  EXPECT_FALSE(client.usable());
}

TEST(DuravipKeeperClientTimeoutTest, AnUnaskedExtraReplyBreaksTheClient) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  daemon::UniqueFd peer(sv[1]);
  KeeperClient client(daemon::UniqueFd(sv[0]), -1, milliseconds(2000));
  ASSERT_EQ(write(peer.get(), "ok\nok\n", 6), 6);
  const Status s = client.Add(Vip("198.18.0.100/24", "eth1"));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("more than one reply"));
}

TEST(DuravipKeeperClientSpawnTest, MissingBinaryFailsClearly) {
  auto client = KeeperClient::Spawn("/nonexistent/ecdk/ec_duravip_keeper");
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(client.status().message(), HasSubstr("/nonexistent/ecdk/ec_duravip_keeper"));
}

TEST(DuravipKeeperClientSpawnTest, DefaultPathIsBesideTheExecutable) {
  auto path = DefaultKeeperPath();
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(std::filesystem::path(*path).filename(), "ec_duravip_keeper");
  EXPECT_EQ(std::filesystem::path(*path).parent_path(),
            std::filesystem::read_symlink("/proc/self/exe").parent_path());
}

std::string KeeperBinary() {
  const char* dir = std::getenv("EC_BINARY_DIR");
  if (dir == nullptr) return "";
  const std::string path = std::string(dir) + "/mta/daemon/ec_duravip_keeper";
  return access(path.c_str(), X_OK) == 0 ? path : "";
}

// The open descriptors of process `pid`.
std::vector<int> OpenFds(pid_t pid) {
  std::vector<int> fds;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    fds.push_back(std::stoi(entry.path().filename()));
  }
  std::sort(fds.begin(), fds.end());
  return fds;
}

// Field 6 of /proc/<pid>/stat: the session id.
pid_t SessionOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string state;
  pid_t ppid = 0, pgrp = 0, session = 0;
  rest >> state >> ppid >> pgrp >> session;
  return session;
}

TEST(DuravipKeeperClientSpawnTest, SpawnsTheRealKeeperInItsOwnSessionWithOnlyItsSocket) {
  const std::string binary = KeeperBinary();
  if (binary.empty()) GTEST_SKIP() << "ec_duravip_keeper not built (EC_BINARY_DIR unset?)";
  // A descriptor of ours without CLOEXEC must not reach the keeper either.
  const int leak = fcntl(2, F_DUPFD, 100);
  ASSERT_GE(leak, 0);
  auto client = KeeperClient::Spawn({.binary = binary, .args = {"--log-level", "warn"}});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const pid_t pid = (*client)->pid();
  ASSERT_GT(pid, 0);
  auto held = (*client)->Held();  // the keeper is up once it answers
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_THAT(*held, IsEmpty());
  auto renewed = (*client)->Renew(milliseconds(1000));
  ASSERT_TRUE(renewed.ok());
  EXPECT_TRUE(*renewed);
  EXPECT_EQ(SessionOf(pid), pid);
  EXPECT_NE(SessionOf(pid), getsid(0));
  // stdio, the socket as 3, and the keeper's own signalfd and netlink socket.
  const std::vector<int> fds = OpenFds(pid);
  EXPECT_EQ(std::count(fds.begin(), fds.end(), leak), 0) << "descriptor " << leak << " leaked";
  EXPECT_EQ(std::count(fds.begin(), fds.end(), 3), 1);
  close(leak);
  client->reset();  // closes the socket, reaps the keeper
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(DuravipKeeperClientSpawnTest, AKeeperThatExitsIsReportedWithItsStatus) {
  const std::string binary = KeeperBinary();
  if (binary.empty()) GTEST_SKIP() << "ec_duravip_keeper not built (EC_BINARY_DIR unset?)";
  // A bad option: the keeper exits 2 at once.
  auto client = KeeperClient::Spawn({.binary = binary, .args = {"--log-level", "bogus"}});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const Status s = (*client)->Held().status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("exited with status 2"));
  EXPECT_FALSE((*client)->usable());
  EXPECT_EQ((*client)->pid(), -1);  // reaped
}

}  // namespace
}  // namespace ec::duravip
