// Security { capabilities } parsing, the Security scope, the privilege drop with capabilities
// kept (in forked children, as root) and the ownership of the directories a daemon writes.
#include "common/daemon/privileges.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "common/config/loader.h"
#include "common/daemon/capabilities.h"
#include "common/daemon/ownership.h"
#include "common/daemon/run_as.h"
#include "tests/unit/common/daemon/in_child.h"

namespace ec::daemon {
namespace {
namespace fs = std::filesystem;

constexpr int kNetBindService = 10, kNetAdmin = 12, kNetRaw = 13, kSysResource = 24;

TEST(ParseCapabilities, AcceptsCapFromTextAndLists) {
  auto shipped = ParseCapabilities(
      "cap_net_admin+ep cap_net_bind_service+ep cap_net_raw+ep cap_sys_resource+ep");
  ASSERT_TRUE(shipped.ok()) << shipped.status().ToString();
  EXPECT_EQ(*shipped, (CapabilityList{kNetBindService, kNetAdmin, kNetRaw, kSysResource}));
  auto list = ParseCapabilities("CAP_NET_RAW, cap_net_admin,cap_net_raw=ep");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(*list, (CapabilityList{kNetAdmin, kNetRaw}));
  EXPECT_EQ(CapabilityNames(*list), "cap_net_admin,cap_net_raw");
  EXPECT_EQ(CapabilityMask(*list), 0x3000u);
  auto none = ParseCapabilities("  ");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(CapabilityNames(*none), "none");
}

TEST(ParseCapabilities, RefusesUnknownNamesRemovalsAndAll) {
  for (const char* bad : {"cap_net_admn", "cap_net_raw-ep", "cap_net_raw+x", "all=ep", "=ep"}) {
    auto r = ParseCapabilities(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseCapabilities("cap_bogus").status().message().find("cap_bogus"), std::string::npos);
}

std::shared_ptr<const config::Config> Parse(const std::string& text) {
  config::Diagnostics diags;
  config::LoadOptions load;
  load.allow_includes = false;
  return config::ParseConfigString(text, "t.conf", load, &diags);
}

TEST(PrivilegeSpecFromConfig, DefaultsMergesAndNamesTheLine) {
  auto spec = PrivilegeSpecFromConfig(*Parse("hostname = \"x\"\n"));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->user, "ecuser");  // Momentum's default account
  EXPECT_EQ(spec->group, "");       // the user's primary group
  EXPECT_TRUE(spec->capabilities.empty());

  // ecelerity-cluster.conf repeats Security: stanzas merge, the last setting wins.
  spec =
      PrivilegeSpecFromConfig(*Parse("Security { user = \"a\" capabilities = \"cap_net_raw\" }\n"
                                     "Security {\n  user = \"nobody\"\n  capabilities = "
                                     "\"cap_net_admin+ep cap_net_raw+ep\"\n}\n"));
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->user, "nobody");
  EXPECT_EQ(spec->where, "t.conf:3:3");
  EXPECT_EQ(spec->capabilities, (CapabilityList{kNetAdmin, kNetRaw}));

  auto opted_out = PrivilegeSpecFromConfig(*Parse("Security { user = \"\" }\n"));
  ASSERT_TRUE(opted_out.ok());
  EXPECT_EQ(opted_out->user, "");

  auto bad = PrivilegeSpecFromConfig(*Parse("Security {\n  capabilities = \"cap_net_admn\"\n}\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.conf:2"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("cap_net_admn"), std::string::npos);
}

// "CapEff" -> value, from /proc/self/status.
std::map<std::string, uint64_t> CapLines() {
  std::map<std::string, uint64_t> out;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Cap", 0) != 0) continue;
    const size_t colon = line.find(':');
    out[line.substr(0, colon)] = std::stoull(line.substr(colon + 1), nullptr, 16);
  }
  return out;
}

// errno of binding 127.0.0.1:<port below 1024>, 0 on success (a bounded scan for a free one).
int BindLowPort() {
  int last = 0;
  for (int port = 990; port < 1020; ++port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    last = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
    close(fd);
    if (last != EADDRINUSE) return last;
  }
  return last;
}

class DropAsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
    auto a = LookUpAccount({.user = "nobody", .group = {}, .capabilities = {}, .where = {}});
    if (!a.ok()) GTEST_SKIP() << "no user 'nobody' on this system";
    nobody_ = *a;
  }
  Account nobody_;
};

TEST_F(DropAsRoot, KeepsExactlyTheListedCapabilities) {
  const int rc = InChild([&] {
    PrivilegeSpec spec{
        .user = "nobody", .group = {}, .capabilities = {kNetBindService}, .where = "t.conf:1"};
    if (!DropPrivileges(spec).ok()) return 1;
    if (getuid() != nobody_.uid || geteuid() != nobody_.uid || getgid() != nobody_.gid) return 2;
    auto caps = CapLines();
    const uint64_t want = uint64_t{1} << kNetBindService;
    if (caps["CapEff"] != want || caps["CapPrm"] != want) return 3;
    if (caps["CapInh"] != 0 || caps["CapAmb"] != 0 || caps["CapBnd"] != want) return 4;
    if (prctl(PR_GET_KEEPCAPS) != 0) return 5;
    if (setuid(0) == 0) return 6;
    return BindLowPort() == 0 ? 0 : 7;  // what cap_net_bind_service is for
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(DropAsRoot, NoCapabilitiesListedLeavesNone) {
  const int rc = InChild([&] {
    if (!DropPrivileges("nobody").ok()) return 1;
    auto caps = CapLines();
    if (caps["CapEff"] != 0 || caps["CapPrm"] != 0 || caps["CapBnd"] != 0) return 2;
    return BindLowPort() == EACCES ? 0 : 3;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(DropAsRoot, RefusesWhileOtherThreadsRun) {
  const int rc = InChild([&] {
    std::atomic<bool> stop{false};
    std::thread t([&] {
      while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    Status s = DropPrivileges("nobody");
    stop = true;
    t.join();
    if (s.code() != StatusCode::kFailedPrecondition) return 1;
    return getuid() == 0 && CapLines()["CapEff"] != 0 ? 0 : 2;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(DropAsRoot, UnknownGroupIsAClearErrorUnheldCapabilityIsLeftOut) {
  const int rc = InChild([&] {
    Status s = DropPrivileges(PrivilegeSpec{.user = "nobody",
                                            .group = "ectest-no-such-group",
                                            .capabilities = {},
                                            .where = "t.conf:7"});
    if (s.code() != StatusCode::kNotFound) return 1;
    if (s.message().find("t.conf:7") == std::string::npos) return 2;
    // Started without net_raw (here: root narrowed to what a drop needs, minus net_raw): it
    // is left out, the rest is kept.
    constexpr int kSetGid = 6, kSetUid = 7, kSetPcap = 8;
    if (!DropPrivileges(PrivilegeSpec{.user = "root",
                                      .group = {},
                                      .capabilities = {kSetGid, kSetUid, kSetPcap, kNetBindService},
                                      .where = {}})
             .ok()) {
      return 3;
    }
    s = DropPrivileges(PrivilegeSpec{.user = "nobody",
                                     .group = {},
                                     .capabilities = {kNetBindService, kNetRaw},
                                     .where = "t.conf:9"});
    if (!s.ok()) return 5;
    const uint64_t want = uint64_t{1} << kNetBindService;
    return CapLines()["CapEff"] == want && CapLines()["CapBnd"] == want ? 0 : 6;
  });
  EXPECT_EQ(rc, 0);
}

TEST_F(DropAsRoot, OwnDirectoryChownsOnceAndNeverThroughSymlinks) {
  const fs::path tmp = fs::temp_directory_path() / ("ectest-own-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp / "outside");
  std::ofstream(tmp / "outside" / "victim") << "x";
  fs::create_directories(tmp / "spool" / "a" / "b");
  std::ofstream(tmp / "spool" / "a" / "b" / "msg") << "x";
  fs::create_symlink(tmp / "outside" / "victim", tmp / "spool" / "a" / "link");
  fs::create_directory_symlink(tmp / "outside", tmp / "spool" / "dirlink");

  ASSERT_TRUE(OwnDirectory(tmp / "spool", nobody_).ok());
  struct stat st {};
  ASSERT_EQ(stat((tmp / "spool" / "a" / "b" / "msg").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_.uid);  // first switch: the whole tree
  ASSERT_EQ(lstat((tmp / "spool" / "a" / "link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_.uid);  // the link itself
  ASSERT_EQ(stat((tmp / "outside" / "victim").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);  // not its target
  ASSERT_EQ(stat((tmp / "outside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);

  // Already owned: only top-level files are checked, the tree is not walked again.
  ASSERT_EQ(chown((tmp / "spool" / "a" / "b" / "msg").c_str(), 0, 0), 0);
  std::ofstream(tmp / "spool" / "top.log") << "x";
  ASSERT_TRUE(OwnDirectory(tmp / "spool", nobody_).ok());
  ASSERT_EQ(stat((tmp / "spool" / "top.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_.uid);
  ASSERT_EQ(stat((tmp / "spool" / "a" / "b" / "msg").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);

  // A symlinked directory is left alone.
  ASSERT_TRUE(OwnDirectory(tmp / "spool" / "dirlink", nobody_).ok());
  ASSERT_EQ(stat((tmp / "outside").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  fs::remove_all(tmp);
}

// `ecconfigd enroll`/`revoke`/`passwd` run as root write into a state dir the daemon's user owns:
// the file must end up that user's, or the running daemon can no longer read it.
TEST_F(DropAsRoot, GiveToDirectoryOwnerMatchesTheDirectoryNeverALink) {
  const fs::path tmp = fs::temp_directory_path() / ("ectest-dirown-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp / "state");
  ASSERT_EQ(chown((tmp / "state").c_str(), nobody_.uid, nobody_.gid), 0);
  std::ofstream(tmp / "state" / "enrol.tokens") << "x";
  std::ofstream(tmp / "victim") << "x";
  fs::create_symlink(tmp / "victim", tmp / "state" / "link");

  ASSERT_TRUE(GiveToDirectoryOwner(tmp / "state" / "enrol.tokens").ok());
  struct stat st {};
  ASSERT_EQ(stat((tmp / "state" / "enrol.tokens").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_.uid);
  EXPECT_EQ(st.st_gid, nobody_.gid);
  ASSERT_TRUE(GiveToDirectoryOwner(tmp / "state" / "link").ok());  // a link: left alone
  ASSERT_EQ(stat((tmp / "victim").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  fs::create_hard_link(tmp / "victim", tmp / "state" / "hard");  // nor a second name of it
  ASSERT_TRUE(GiveToDirectoryOwner(tmp / "state" / "hard").ok());
  ASSERT_EQ(stat((tmp / "victim").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_TRUE(GiveToDirectoryOwner(tmp / "state" / "missing").ok());
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace ec::daemon
