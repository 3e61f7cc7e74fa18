// Signal policy, privilege drop, daemonize and the root layout.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/daemon/daemonize.h"
#include "common/daemon/privileges.h"
#include "common/daemon/root_layout.h"
#include "common/daemon/signals.h"
#include "common/event/event_base.h"
#include "common/log/logger.h"
#include "tests/unit/common/daemon/in_child.h"

namespace ec::daemon {
namespace {

constexpr std::chrono::milliseconds kDeadline(10000);

TEST(DaemonSignals, TermAndIntStopHupReloads) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  int stops = 0;
  int reloads = 0;
  auto signals = DaemonSignals::Install(**base, {[&] { ++stops; }, [&] { ++reloads; }});
  ASSERT_TRUE(signals.ok()) << signals.status().ToString();

  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  ASSERT_TRUE((*base)->RunUntil([&] { return reloads == 1; }, kDeadline));
  EXPECT_EQ(stops, 0);
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  ASSERT_TRUE((*base)->RunUntil([&] { return stops == 1; }, kDeadline));
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  ASSERT_TRUE((*base)->RunUntil([&] { return stops == 2; }, kDeadline));
  EXPECT_EQ(reloads, 1);
  // SIGPIPE no longer kills the process.
  ASSERT_EQ(kill(getpid(), SIGPIPE), 0);
}

TEST(DaemonSignals, HupReopensTheProcessLog) {
  char tmpl[] = "/tmp/ec-hup-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  log::Logger& logger = log::Logger::Global();
  ASSERT_TRUE(logger.LogToFile((dir / "ecmta.log").string()).ok());
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  int reloads = 0;
  auto signals = DaemonSignals::Install(**base, {nullptr, [&] { ++reloads; }});
  ASSERT_TRUE(signals.ok());
  EC_LOG(kWarn, "before rotation");
  std::filesystem::rename(dir / "ecmta.log", dir / "ecmta.log.1");
  ASSERT_EQ(kill(getpid(), SIGHUP), 0);
  ASSERT_TRUE((*base)->RunUntil([&] { return reloads == 1; }, kDeadline));
  EC_LOG(kWarn, "after rotation");
  logger.LogToStderr();
  auto contents = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  std::string rotated = contents(dir / "ecmta.log.1");
  std::string current = contents(dir / "ecmta.log");
  EXPECT_NE(rotated.find("msg=\"before rotation\""), std::string::npos) << rotated;
  EXPECT_EQ(rotated.find("after rotation"), std::string::npos) << rotated;
  EXPECT_NE(current.find("msg=\"after rotation\""), std::string::npos) << current;
  std::filesystem::remove_all(dir);
}

TEST(DaemonSignals, StopCallbackEndsRun) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  event::EventBase* loop = base->get();
  auto signals = DaemonSignals::Install(*loop, {[loop] { loop->Stop(); }, nullptr});
  ASSERT_TRUE(signals.ok());
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // delivered to the loop once it runs
  EXPECT_TRUE(loop->Run().ok());
}

TEST(DropPrivileges, EmptyUserChangesNothing) {
  uid_t before = getuid();
  EXPECT_TRUE(DropPrivileges("").ok());
  EXPECT_EQ(getuid(), before);
}

TEST(DropPrivileges, SwitchesToNamedUserWhenRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this system";
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;
  // In a child: the drop cannot be undone.
  int rc = InChild([&] {
    if (!DropPrivileges("nobody").ok()) return 1;
    if (getuid() != uid || geteuid() != uid) return 2;
    if (getgid() != gid || getegid() != gid) return 3;
    if (setuid(0) == 0) return 4;
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; ++i) {
      if (groups[i] == 0) return 5;  // root's groups are gone
    }
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(DropPrivileges, UnknownUserIsNotFound) {
  if (geteuid() != 0) GTEST_SKIP() << "as non-root the call is a no-op";
  int rc = InChild([] {
    Status s = DropPrivileges("no-such-user-ecmta");
    if (s.code() != StatusCode::kNotFound) return 1;
    return getuid() == 0 ? 0 : 2;
  });
  EXPECT_EQ(rc, 0);
}

TEST(DropPrivileges, NotRootIsANoOp) {
  int rc = InChild([] {
    if (geteuid() == 0) {
      passwd* nobody = getpwnam("nobody");
      if (nobody == nullptr || setgid(nobody->pw_gid) != 0 || setuid(nobody->pw_uid) != 0) {
        return 10;
      }
    }
    uid_t before = getuid();
    if (!DropPrivileges("root").ok()) return 1;
    return getuid() == before ? 0 : 2;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Daemonize, DetachesIntoANewSession) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    if (!Daemonize().ok()) _exit(1);
    // The grandchild: report pid, session, cwd and whether stdin is /dev/null.
    char cwd[64] = {};
    (void)!getcwd(cwd, sizeof(cwd));
    std::string report = std::to_string(getpid()) + " " + std::to_string(getsid(0)) + " " + cwd;
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::string report;
  char buf[128];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) report.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  pid_t pid = 0;
  pid_t sid = 0;
  char cwd[64] = {};
  ASSERT_EQ(sscanf(report.c_str(), "%d %d %63s", &pid, &sid, cwd), 3) << report;
  EXPECT_NE(pid, child);      // the daemon is the grandchild ...
  EXPECT_NE(sid, getsid(0));  // ... in a session of its own ...
  EXPECT_NE(sid, pid);        // ... that it does not lead (no terminal can be acquired)
  EXPECT_STREQ(cwd, "/");
}

TEST(RootLayout, DerivesEverythingFromTheRoot) {
  RootLayout layout = RootLayout::FromRoot("/tmp/node1");
  EXPECT_EQ(layout.etc, "/tmp/node1/etc");
  EXPECT_EQ(layout.spool, "/tmp/node1/spool");
  EXPECT_EQ(layout.log, "/tmp/node1/log");
  EXPECT_EQ(layout.run, "/tmp/node1/run");
  EXPECT_EQ(layout.ConsoleSocket(), "/tmp/node1/run/ec_console.sock");
  EXPECT_EQ(layout.PidFile("ecmta"), "/tmp/node1/run/ecmta.pid");
  EXPECT_EQ(layout.ProcessLog("eccmgr"), "/tmp/node1/log/eccmgr.log");
  EXPECT_EQ(RootLayout::FromRoot().root, "/opt/ecmta");
}

TEST(RootLayout, CreatesItsDirectories) {
  char tmpl[] = "/tmp/ec-root-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::filesystem::path dir = tmpl;
  RootLayout layout = RootLayout::FromRoot(dir / "node1");
  ASSERT_TRUE(layout.CreateDirectories().ok());
  for (const auto& d : {layout.etc, layout.spool, layout.log, layout.run}) {
    EXPECT_TRUE(std::filesystem::is_directory(d)) << d;
  }
  ASSERT_TRUE(layout.CreateDirectories().ok());  // idempotent
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ec::daemon
