// #mmove across kill -9: node1 (mmove_crash_peer send) moves 200 spooled messages to node2
// (mmove_crash_peer receive) while the test SIGKILLs one or the other at random moments and
// starts it again; then node1 runs to the end. Every message must end up in node2's spool
// exactly once, intact, and node1's spool must be empty: never lost, never stored twice.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <thread>

#include "tests/unit/eccluster/channel_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"
#include "tests/unit/testing/child_process.h"

namespace ec::mmove {
namespace {

using namespace std::chrono_literals;

constexpr int kMmoveCrashMessages = 200;

pid_t StartPeer(const std::vector<std::string>& args, int* stdout_fd) {
  return testutil::SpawnWithStdoutPipe(MMOVE_CRASH_PEER, args, stdout_fd);
}

int WaitExit(pid_t pid) {
  int status = 0;
  EC_CHECK(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void KillPeer(pid_t pid) {
  ::kill(pid, SIGKILL);
  WaitExit(pid);
}

// The receiver's "ready <address>" line.
std::string ReadyAddress(int fd) {
  std::string line;
  char c;
  while (line.size() < 200 && ::read(fd, &c, 1) == 1 && c != '\n') line += c;
  ::close(fd);
  return line.rfind("ready ", 0) == 0 ? line.substr(6) : "";
}

TEST(MmoveCrashTest, KillNineEitherSideDeliversEachMessageOnce) {
  eccluster::testing::KeyDir keys({"node1", "node2"});
  spool::testing::TempDir sender, receiver;
  const std::string keydir = keys.dir().string();
  ASSERT_EQ(WaitExit(StartPeer({"inject", sender.path(), std::to_string(kMmoveCrashMessages)},
                               nullptr)),
            0);
  int fd = -1;
  pid_t recv_pid = StartPeer({"receive", receiver.path(), "127.0.0.1:0", keydir}, &fd);
  const std::string endpoint = ReadyAddress(fd);
  ASSERT_FALSE(endpoint.empty());
  pid_t send_pid = StartPeer({"send", sender.path(), endpoint, keydir}, nullptr);

  std::mt19937 rng(std::random_device{}());
  int kills[2] = {0, 0};
  for (int round = 0; round < 12; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 150));
    const bool kill_sender = rng() % 2 == 0;
    if (kill_sender) {
      KillPeer(send_pid);
      send_pid = StartPeer({"send", sender.path(), endpoint, keydir}, nullptr);
    } else {
      KillPeer(recv_pid);
      recv_pid = StartPeer({"receive", receiver.path(), endpoint, keydir}, &fd);
      ASSERT_EQ(ReadyAddress(fd), endpoint);
    }
    ++kills[kill_sender ? 0 : 1];
  }
  EXPECT_EQ(WaitExit(send_pid), 0);  // bounded: the sender gives up after 60 s
  KillPeer(recv_pid);
  std::printf("kills: sender %d, receiver %d\n", kills[0], kills[1]);

  auto left = spool::testing::OpenOrDie(spool::testing::QuietOptions(sender.path() + "/spool"));
  EXPECT_EQ(left->size(), 0u);
  auto got = spool::testing::OpenOrDie(spool::testing::QuietOptions(receiver.path() + "/spool"));
  std::map<std::string, int> seen;
  ASSERT_TRUE(got->ForEachMessage([&](spool::SpooledMessage&& m) {
                   const std::string token = m.envelope.dsn_envid.substr(4);  // "env-<token>"
                   ++seen[token];
                   const size_t i = std::stoul(token.substr(1));
                   EXPECT_EQ(got->ReadBody(m.id).value(),
                             spool::testing::MakeBody(token, 3000 + i * 37));
                 }).ok());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kMmoveCrashMessages));
  for (const auto& [token, n] : seen) EXPECT_EQ(n, 1) << token << " stored " << n << " times";
}

}  // namespace
}  // namespace ec::mmove
