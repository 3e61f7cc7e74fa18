// The manager's repository model against real repositories in temp dirs, checked with stock git.
#include "ecconfigd/repo.h"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

#include "ecconfigd/pack.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {
namespace fs = std::filesystem;
using test::Sh;
using test::WriteFile;

class RepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("ecconfigd_test");
    ASSERT_FALSE(dir_.empty());
    WriteFile(dir_ / "seed/global/msgc_server.conf", "peers = a\n");
    WriteFile(dir_ / "seed/default/ecelerity.conf", "spool = x\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A commit on top of the head made by stock git in a clone, returned as (new head, pack).
  std::pair<git_oid, std::string> CommitWithGit(Repo& repo, const std::string& file,
                                                const std::string& content) {
    fs::path clone = dir_ / ("clone" + std::to_string(clones_++));
    EXPECT_EQ(Sh("git clone -q " + repo.path().string() + " " + clone.string()).exit_code, 0);
    WriteFile(clone / file, content);
    EXPECT_EQ(Sh("cd " + clone.string() +
                 " && git add -A && git -c user.name=t -c user.email=t@t commit -qm change")
                  .exit_code,
              0);
    std::string head = Sh("git -C " + clone.string() + " rev-parse HEAD").output.substr(0, 40);
    auto oid = ParseOid(head);
    EXPECT_TRUE(oid.ok());
    Result<Repo> local = Repo::Open(clone / ".git");
    EXPECT_TRUE(local.ok()) << local.status().ToString();
    auto base = repo.Head();
    auto pack = BuildPack(local->raw(), *oid, {*base});
    EXPECT_TRUE(pack.ok()) << pack.status().ToString();
    return {*oid, *pack};
  }

  fs::path dir_;
  int clones_ = 0;
};

TEST_F(RepoTest, CreateMakesABareRepositoryStockGitReads) {
  auto repo = Repo::Create(dir_ / "default.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  auto fsck = Sh("git -C " + (dir_ / "default.git").string() + " fsck --strict");
  EXPECT_EQ(fsck.exit_code, 0) << fsck.output;
  auto files = Sh("git -C " + (dir_ / "default.git").string() + " ls-tree -r --name-only main");
  EXPECT_EQ(files.output, "default/ecelerity.conf\nglobal/msgc_server.conf\n");
  auto head = repo->Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(Sh("git -C " + (dir_ / "default.git").string() + " rev-parse HEAD").output,
            OidToHex(*head) + "\n");
  EXPECT_FALSE(Repo::Create(dir_ / "default.git", dir_ / "seed", Author{}).ok());
}

TEST_F(RepoTest, PushFastForwardMovesHeadAndCloneSeesIt) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok());
  git_oid old_head = *repo->Head();
  auto [new_head, pack] = CommitWithGit(*repo, "default/ecelerity.conf", "spool = y\n");
  auto pushed = repo->Push(old_head, new_head, pack, "admin");
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_TRUE(git_oid_equal(&*repo->Head(), &new_head));
  std::string path = (dir_ / "r.git").string();
  EXPECT_EQ(Sh("git -C " + path + " fsck --strict").exit_code, 0);
  EXPECT_EQ(Sh("git -C " + path + " show main:default/ecelerity.conf").output, "spool = y\n");
  EXPECT_EQ(Sh("git -C " + path + " rev-list --count main").output, "2\n");
}

TEST_F(RepoTest, LockFilesLeftByAKilledWriterDoNotBlockPushesAfterRestart) {
  {
    auto first = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
    ASSERT_TRUE(first.ok());
  }
  // What an ecconfigd killed -9 in the middle of a ref update leaves behind.
  std::ofstream(dir_ / "r.git/refs/heads/main.lock") << "0000000000000000000000000000000000000000\n";
  auto repo = Repo::Open(dir_ / "r.git");  // as ecconfigd does at start
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_FALSE(fs::exists(dir_ / "r.git/refs/heads/main.lock"));
  git_oid old_head = *repo->Head();
  auto [new_head, pack] = CommitWithGit(*repo, "default/ecelerity.conf", "spool = z\n");
  auto pushed = repo->Push(old_head, new_head, pack, "admin");
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
}

TEST_F(RepoTest, StalePushIsRefusedNamingTheHead) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok());
  git_oid base = *repo->Head();
  auto [first, pack1] = CommitWithGit(*repo, "a.conf", "1\n");
  auto [second, pack2] = CommitWithGit(*repo, "b.conf", "2\n");
  ASSERT_TRUE(repo->Push(base, first, pack1, "admin").ok());
  auto stale = repo->Push(base, second, pack2, "admin");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find(OidToHex(first)), std::string::npos)
      << stale.status().message();
  EXPECT_TRUE(git_oid_equal(&*repo->Head(), &first));
}

TEST_F(RepoTest, NonDescendantIsRefused) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  auto other = Repo::Create(dir_ / "o.git", dir_ / "seed", Author{"x", "y@z"}, "unrelated");
  ASSERT_TRUE(repo.ok() && other.ok());
  git_oid base = *repo->Head();
  git_oid foreign = *other->Head();
  auto pack = BuildPack(other->raw(), foreign, {});
  ASSERT_TRUE(pack.ok());
  auto r = repo->Push(base, foreign, *pack, "admin");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_TRUE(git_oid_equal(&*repo->Head(), &base));
}

TEST_F(RepoTest, TruncatedAndCorruptPacksAreRefusedAndRepoStaysValid) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok());
  git_oid base = *repo->Head();
  auto [new_head, pack] = CommitWithGit(*repo, "a.conf", "hello\n");
  std::string truncated = pack.substr(0, pack.size() - 7);
  auto r1 = repo->Push(base, new_head, truncated, "admin");
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kInvalidArgument) << r1.status().ToString();
  std::string corrupt = pack;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  auto r2 = repo->Push(base, new_head, corrupt, "admin");
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kInvalidArgument) << r2.status().ToString();
  auto r3 = repo->Push(base, new_head, "garbage", "admin");
  EXPECT_EQ(r3.status().code(), StatusCode::kInvalidArgument);
  // A header announcing more objects than the bytes can hold never reaches libgit2.
  std::string liar("PACK\0\0\0\2\x7f\0\0\0", 12);
  liar.append(64, '\0');
  r3 = repo->Push(base, new_head, liar, "admin");
  EXPECT_NE(r3.status().message().find("announces 2130706432 objects"), std::string::npos)
      << r3.status().ToString();
  EXPECT_EQ(r3.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(git_oid_equal(&*repo->Head(), &base));
  EXPECT_EQ(Sh("git -C " + (dir_ / "r.git").string() + " fsck --strict").exit_code, 0);
  // The good pack still goes through afterwards.
  EXPECT_TRUE(repo->Push(base, new_head, pack, "admin").ok());
}

TEST_F(RepoTest, PackMissingObjectsIsRefused) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok());
  git_oid base = *repo->Head();
  auto [first, pack1] = CommitWithGit(*repo, "a.conf", "1\n");
  fs::path clone = dir_ / "clone0";
  WriteFile(clone / "b.conf", "2\n");
  ASSERT_EQ(Sh("cd " + clone.string() +
               " && git add -A && git -c user.name=t -c user.email=t@t commit -qm two")
                .exit_code,
            0);
  auto second = ParseOid(Sh("git -C " + clone.string() + " rev-parse HEAD").output.substr(0, 40));
  auto local = Repo::Open(clone / ".git");
  // Only the objects since `first`: the server lacks `first` itself.
  auto pack2 = BuildPack(local->raw(), *second, {first});
  ASSERT_TRUE(pack2.ok());
  auto r = repo->Push(base, *second, *pack2, "admin");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(git_oid_equal(&*repo->Head(), &base));
}

TEST_F(RepoTest, PackSinceHoldsOnlyWhatTheClientLacks) {
  auto repo = Repo::Create(dir_ / "r.git", dir_ / "seed", Author{});
  ASSERT_TRUE(repo.ok());
  git_oid base = *repo->Head();
  auto [next, pack] = CommitWithGit(*repo, "a.conf", "1\n");
  ASSERT_TRUE(repo->Push(base, next, pack, "admin").ok());
  auto full = repo->PackSince(std::nullopt);
  auto delta = repo->PackSince(base);
  auto none = repo->PackSince(next);
  ASSERT_TRUE(full.ok() && delta.ok() && none.ok());
  // Full: 2 commits, 2 root trees, global/ and default/ trees, 3 blobs.
  EXPECT_EQ(*PackObjectCount(*full), 9u);
  // Since base: 1 commit, 1 root tree, 1 blob.
  EXPECT_EQ(*PackObjectCount(*delta), 3u);
  EXPECT_EQ(*PackObjectCount(*none), 0u);
  // A fresh repository indexing the full pack has the whole history.
  auto empty = Repo::Create(dir_ / "e.git", dir_ / "nothing", Author{});
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(IndexPack(empty->raw(), *full).ok());
  EXPECT_TRUE(CheckConnected(empty->raw(), next, {}).ok());
}

}  // namespace
}  // namespace ec::ecconfigd
