#include "common/daemon/pid_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ec::daemon {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A pid that surely names no process: a child we started and reaped.
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  return pid;
}

class PidFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec-pid-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "ecmta.pid").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(PidFileTest, WritesOurPidAndRemovesOnExit) {
  {
    auto pid_file = PidFile::Acquire(path_);
    ASSERT_TRUE(pid_file.ok()) << pid_file.status().ToString();
    EXPECT_EQ(ReadFile(path_), std::to_string(getpid()) + "\n");
    EXPECT_EQ(*ReadPidFile(path_), getpid());
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PidFileTest, SecondInstanceRefused) {
  auto first = PidFile::Acquire(path_);
  ASSERT_TRUE(first.ok());
  auto second = PidFile::Acquire(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("already running: pid " + std::to_string(getpid())),
            std::string::npos)
      << second.status().message();
  // The refused attempt left the holder's file alone.
  EXPECT_EQ(ReadFile(path_), std::to_string(getpid()) + "\n");
}

TEST_F(PidFileTest, InstanceInAnotherProcessRefusedThenStaleAfterItDies) {
  int to_child[2];
  int to_parent[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(to_parent), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = PidFile::Acquire(path_);
    char c = held.ok() ? 'y' : 'n';
    (void)!write(to_parent[1], &c, 1);
    (void)!read(to_child[0], &c, 1);  // hold the lock until told
    _exit(0);                         // no destructors: the file stays behind, stale
  }
  char c = 0;
  ASSERT_EQ(read(to_parent[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto refused = PidFile::Acquire(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("pid " + std::to_string(child)), std::string::npos)
      << refused.status().message();

  ASSERT_EQ(write(to_child[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(ReadFile(path_), std::to_string(child) + "\n");  // left behind by the dead child
  auto taken = PidFile::Acquire(path_);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(ReadFile(path_), std::to_string(getpid()) + "\n");
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) close(fd);
}

TEST_F(PidFileTest, StalePidIsTakenOver) {
  pid_t dead = DeadPid();
  EXPECT_FALSE(ProcessExists(dead));
  { std::ofstream(path_) << dead << "\n"; }
  auto pid_file = PidFile::Acquire(path_);
  ASSERT_TRUE(pid_file.ok()) << pid_file.status().ToString();
  EXPECT_EQ(ReadFile(path_), std::to_string(getpid()) + "\n");
}

TEST_F(PidFileTest, GarbageContentIsTakenOver) {
  { std::ofstream(path_) << "not a pid at all, and longer than the old pid\n"; }
  EXPECT_FALSE(ReadPidFile(path_).ok());
  auto pid_file = PidFile::Acquire(path_);
  ASSERT_TRUE(pid_file.ok());
  EXPECT_EQ(ReadFile(path_), std::to_string(getpid()) + "\n");
}

TEST_F(PidFileTest, MissingDirectoryIsAnError) {
  auto pid_file = PidFile::Acquire((dir_ / "no" / "x.pid").string());
  ASSERT_FALSE(pid_file.ok());
  EXPECT_NE(pid_file.status().message().find("x.pid"), std::string::npos);
}

TEST(ProcessExists, SeesOurselvesNotTheDead) {
  EXPECT_TRUE(ProcessExists(getpid()));
  EXPECT_FALSE(ProcessExists(DeadPid()));
}

}  // namespace
}  // namespace ec::daemon
