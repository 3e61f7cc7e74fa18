// The node's working copy against a real manager repository in a temp dir (LocalRemote), with
// results checked through the files, the symlink and stock git.
#include "eccfg/working_copy.h"

#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "ecconfigd/repo.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::eccfg {
namespace {
namespace fs = std::filesystem;
using ecconfigd::OidToHex;
using test::ReadFile;
using test::Sh;
using test::WriteFile;
using Outcome = PullReport::Outcome;

class WorkingCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("eccfg_test");
    ASSERT_FALSE(dir_.empty());
    WriteFile(dir_ / "seed/global/msgc_server.conf", "peers = a\n");
    WriteFile(dir_ / "seed/default/ecelerity.conf", "line1\nline2\nline3\nline4\nline5\n");
    auto repo = ecconfigd::Repo::Create(dir_ / "mgr/default.git", dir_ / "seed", {});
    ASSERT_TRUE(repo.ok()) << repo.status().ToString();
    remote_ = std::make_unique<LocalRemote>(dir_ / "mgr/default.git", "admin");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Wc(const std::string& node) { return dir_ / node / "etc/conf"; }

  WorkingCopy Node(const std::string& node) {
    WorkingCopy wc(Wc(node));
    auto r = wc.Pull(*remote_, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return wc;
  }

  git_oid Commit(WorkingCopy& wc, const std::string& file, const std::string& content) {
    WriteFile(wc.layout().wc() / file, content);
    CommitOptions opts;
    opts.add_all = true;
    opts.message = "edit " + file;
    auto r = wc.Commit(*remote_, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->revision : git_oid{};
  }

  std::string ManagerHead() {
    return Sh("git -C " + (dir_ / "mgr/default.git").string() + " rev-parse main").output;
  }

  fs::path dir_;
  std::unique_ptr<LocalRemote> remote_;
};

TEST_F(WorkingCopyTest, BootstrapMakesASymlinkedWorkTreeStockGitReads) {
  WorkingCopy wc(Wc("a"));
  auto r = wc.Pull(*remote_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_TRUE(fs::is_symlink(Wc("a")));
  EXPECT_EQ(ReadFile(Wc("a") / "global/msgc_server.conf"), "peers = a\n");
  std::string conf = Wc("a").string();
  EXPECT_EQ(Sh("git -C " + conf + " status --porcelain").output, "");
  EXPECT_EQ(Sh("git -C " + conf + " rev-parse HEAD").output, ManagerHead());
  EXPECT_EQ(Sh("git -C " + conf + " fsck").exit_code, 0);
  auto again = wc.Pull(*remote_, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, Outcome::kUpToDate);
}

TEST_F(WorkingCopyTest, CommitOnOneNodeAppearsOnAnother) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  git_oid rev = Commit(a, "default/new.conf", "hello\n");
  EXPECT_EQ(ManagerHead(), OidToHex(rev) + "\n");
  EXPECT_EQ(Sh("git -C " + Wc("a").string() + " status --porcelain").output, "");
  auto r = b.Pull(*remote_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_EQ(ReadFile(Wc("b") / "default/new.conf"), "hello\n");
  EXPECT_EQ(Sh("git -C " + Wc("b").string() + " log --format=%s -1").output,
            "edit default/new.conf\n");
  // Only the live checkout is left beside the link.
  int checkouts = 0;
  for (const auto& e : fs::directory_iterator(Wc("b").parent_path())) {
    if (e.path().filename().string().rfind("conf.", 0) == 0) ++checkouts;
  }
  EXPECT_EQ(checkouts, 1);
  EXPECT_EQ(Sh("git -C " + (dir_ / "mgr/default.git").string() + " fsck --strict").exit_code, 0);
}

TEST_F(WorkingCopyTest, LocalEditIsMergedAndStaysALocalEdit) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  WriteFile(Wc("b") / "default/ecelerity.conf", "line1\nline2\nline3\nline4\nline5 local\n");
  WriteFile(Wc("b") / "b-only.conf", "mine\n");
  Commit(a, "default/ecelerity.conf", "line1 upstream\nline2\nline3\nline4\nline5\n");
  auto r = b.Pull(*remote_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_TRUE(r->merged_local_edits);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"),
            "line1 upstream\nline2\nline3\nline4\nline5 local\n");
  EXPECT_EQ(ReadFile(Wc("b") / "b-only.conf"), "mine\n");
  auto st = b.Status();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, (std::vector<FileStatus>{{'?', "b-only.conf"}, {'M', "default/ecelerity.conf"}}));
  EXPECT_EQ(Sh("git -C " + Wc("b").string() + " status --porcelain").output,
            " M default/ecelerity.conf\n?? b-only.conf\n");
}

class ConflictTest : public WorkingCopyTest {
 protected:
  void SetUp() override {
    WorkingCopyTest::SetUp();
    a_ = std::make_unique<WorkingCopy>(Node("a"));
    b_ = std::make_unique<WorkingCopy>(Node("b"));
    WriteFile(Wc("b") / "default/ecelerity.conf", "line1 local\nline2\nline3\nline4\nline5\n");
    upstream_ = Commit(*a_, "default/ecelerity.conf",
                       "line1 upstream\nline2\nline3\nline4\nline5 upstream\n");
    before_ = fs::read_symlink(Wc("b"));
  }
  std::unique_ptr<WorkingCopy> a_, b_;
  git_oid upstream_;
  fs::path before_;
};

TEST_F(ConflictTest, ConflictIsRefusedAndChangesNothing) {
  auto r = b_->Pull(*remote_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kConflict);
  EXPECT_EQ(r->conflicts, std::set<std::string>{"default/ecelerity.conf"});
  EXPECT_EQ(fs::read_symlink(Wc("b")), before_);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"),
            "line1 local\nline2\nline3\nline4\nline5\n");
  EXPECT_NE(Sh("git -C " + Wc("b").string() + " rev-parse HEAD").output, ManagerHead());
}

TEST_F(ConflictTest, MineKeepsTheLocalSideAndMergesTheRest) {
  PullOptions opts;
  opts.policy = ConflictPolicy::kMine;
  auto r = b_->Pull(*remote_, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"),
            "line1 local\nline2\nline3\nline4\nline5 upstream\n");
  EXPECT_EQ(Sh("git -C " + Wc("b").string() + " rev-parse HEAD").output, ManagerHead());
}

TEST_F(ConflictTest, TheirsTakesTheRepository) {
  PullOptions opts;
  opts.policy = ConflictPolicy::kTheirs;
  auto r = b_->Pull(*remote_, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"),
            "line1 upstream\nline2\nline3\nline4\nline5 upstream\n");
  EXPECT_EQ(Sh("git -C " + Wc("b").string() + " status --porcelain").output, "");
}

TEST_F(ConflictTest, ManualLeavesMarkersUntilResolved) {
  PullOptions opts;
  opts.policy = ConflictPolicy::kManual;
  auto r = b_->Pull(*remote_, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_EQ(r->conflicts, std::set<std::string>{"default/ecelerity.conf"});
  std::string text = ReadFile(Wc("b") / "default/ecelerity.conf");
  EXPECT_NE(text.find("<<<<<<< local"), std::string::npos) << text;
  EXPECT_NE(text.find(">>>>>>> repository"), std::string::npos) << text;
  auto st = b_->Status();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, (std::vector<FileStatus>{{'C', "default/ecelerity.conf"}}));
  // Commit and pull wait for the operator; resolve wants the markers gone.
  EXPECT_EQ(b_->Commit(*remote_, {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b_->Pull(*remote_, {}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b_->Resolve("default/ecelerity.conf").code(), StatusCode::kFailedPrecondition);
  WriteFile(Wc("b") / "default/ecelerity.conf",
            "line1 both\nline2\nline3\nline4\nline5 upstream\n");
  ASSERT_TRUE(b_->Resolve(Wc("b").string() + "/default/ecelerity.conf").ok());
  auto c = b_->Commit(*remote_, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(ManagerHead(), OidToHex(c->revision) + "\n");
}

TEST_F(WorkingCopyTest, StaleCommitIsRefusedAndLeavesTheEditsAlone) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  git_oid first = Commit(a, "x.conf", "from a\n");
  WriteFile(Wc("b") / "y.conf", "from b\n");
  CommitOptions opts;
  opts.add_all = true;
  auto r = b.Commit(*remote_, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("stale base"), std::string::npos) << r.status().message();
  EXPECT_EQ(ManagerHead(), OidToHex(first) + "\n");
  EXPECT_EQ(ReadFile(Wc("b") / "y.conf"), "from b\n");
  // After a pull the same commit goes through.
  ASSERT_TRUE(b.Pull(*remote_, {}).ok());
  auto again = b.Commit(*remote_, opts);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(Sh("git -C " + (dir_ / "mgr/default.git").string() + " rev-list --count main").output,
            "3\n");
}

TEST_F(WorkingCopyTest, InvalidConfigIsRefusedAtPull) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  fs::path before = fs::read_symlink(Wc("b"));
  Commit(a, "default/ecelerity.conf", "BROKEN\n");
  PullOptions opts;
  opts.validator = ShellValidator(
      "if grep -rq BROKEN \"$EC_CONF_DIR\"/default; then echo bad config; "
      "exit 1; fi");
  auto r = b.Pull(*remote_, opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kInvalid);
  EXPECT_EQ(r->validator_output, "bad config\n");
  EXPECT_EQ(fs::read_symlink(Wc("b")), before);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"), "line1\nline2\nline3\nline4\nline5\n");
  // Once fixed upstream it applies.
  Commit(a, "default/ecelerity.conf", "fixed\n");
  auto fixed = b.Pull(*remote_, opts);
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->outcome, Outcome::kApplied);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"), "fixed\n");
}

// Hands out what the real remote fetched, mangled.
class ManglingRemote : public Remote {
 public:
  ManglingRemote(Remote& real, std::function<void(FetchResult&)> mangle)
      : real_(real), mangle_(std::move(mangle)) {}
  Result<FetchResult> Fetch(const std::optional<git_oid>& have) override {
    EC_ASSIGN_OR_RETURN(FetchResult r, real_.Fetch(have));
    mangle_(r);
    return r;
  }
  Result<git_oid> Push(const git_oid& e, const git_oid& n, std::string_view p) override {
    return real_.Push(e, n, p);
  }
  Result<git_oid> Wait(const git_oid& have, std::chrono::milliseconds t) override {
    return real_.Wait(have, t);
  }

 private:
  Remote& real_;
  std::function<void(FetchResult&)> mangle_;
};

TEST_F(WorkingCopyTest, CorruptTruncatedOrIncompletePackIsRefusedAtPull) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  fs::path before = fs::read_symlink(Wc("b"));
  Commit(a, "default/ecelerity.conf", "new\n");
  std::vector<std::pair<std::string, std::function<void(FetchResult&)>>> cases = {
      {"truncated", [](FetchResult& r) { r.pack.resize(r.pack.size() - 9); }},
      {"corrupt", [](FetchResult& r) { r.pack[r.pack.size() / 2] ^= 0x41; }},
      {"garbage", [](FetchResult& r) { r.pack = "not a pack"; }},
      {"empty", [](FetchResult& r) { r.pack.clear(); }},
  };
  for (auto& [name, mangle] : cases) {
    ManglingRemote bad(*remote_, mangle);
    auto r = b.Pull(bad, {});
    EXPECT_FALSE(r.ok()) << name;
    EXPECT_EQ(fs::read_symlink(Wc("b")), before) << name;
    EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"), "line1\nline2\nline3\nline4\nline5\n")
        << name;
  }
  EXPECT_EQ(
      Sh("git --git-dir " + (Wc("b").parent_path() / ".conf.store.git").string() + " fsck --strict")
          .exit_code,
      0);
  auto good = b.Pull(*remote_, {});
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->outcome, Outcome::kApplied);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"), "new\n");
}

TEST_F(WorkingCopyTest, DebrisOfAKilledPullIsRemoved) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  fs::path etc = Wc("b").parent_path();
  fs::create_directories(etc / "conf.0123456789ab.abcdefgh/default");
  fs::create_symlink("conf.0123456789ab.abcdefgh", etc / ".conf.swap.zzzzzzzz");
  fs::create_directories(etc / "conf.d");  // not ours: stays
  WriteFile(etc / ".conf.store.git/refs/heads/main.lock", "");
  Commit(a, "x.conf", "1\n");
  auto r = b.Pull(*remote_, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_FALSE(fs::exists(etc / "conf.0123456789ab.abcdefgh"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(etc / ".conf.swap.zzzzzzzz")));
  EXPECT_TRUE(fs::exists(etc / "conf.d"));
  EXPECT_EQ(ReadFile(Wc("b") / "x.conf"), "1\n");
}

TEST_F(WorkingCopyTest, ConcurrentPullsSerialiseAndLeaveOneWholeCopy) {
  WorkingCopy a = Node("a");
  Node("b");
  Commit(a, "x.conf", "1\n");
  Commit(a, "y.conf", "2\n");
  std::vector<Result<PullReport>> results(4, Result<PullReport>(Internal("not run")));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      WorkingCopy wc(Wc("b"));
      results[i] = wc.Pull(*std::make_unique<LocalRemote>(dir_ / "mgr/default.git", "x"), {});
    });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    applied += r->outcome == Outcome::kApplied;
  }
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(ReadFile(Wc("b") / "y.conf"), "2\n");
  EXPECT_EQ(Sh("git -C " + Wc("b").string() + " rev-parse HEAD").output, ManagerHead());
}

TEST_F(WorkingCopyTest, RevertDeleteAndDiff) {
  WorkingCopy a = Node("a");
  WriteFile(Wc("a") / "default/ecelerity.conf", "changed\n");
  auto diff = a.Diff();
  ASSERT_TRUE(diff.ok());
  EXPECT_NE(diff->find("-line1\n"), std::string::npos) << *diff;
  EXPECT_NE(diff->find("+changed\n"), std::string::npos) << *diff;
  ASSERT_TRUE(a.Revert("default/ecelerity.conf").ok());
  EXPECT_EQ(ReadFile(Wc("a") / "default/ecelerity.conf"), "line1\nline2\nline3\nline4\nline5\n");
  EXPECT_EQ(a.Revert("nope.conf").code(), StatusCode::kFailedPrecondition);
  fs::remove(Wc("a") / "global/msgc_server.conf");
  auto st = a.Status();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, (std::vector<FileStatus>{{'!', "global/msgc_server.conf"}}));
  auto refused = a.Commit(*remote_, {});
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  CommitOptions opts;
  opts.delete_all = true;
  ASSERT_TRUE(a.Commit(*remote_, opts).ok());
  EXPECT_EQ(
      Sh("git -C " + (dir_ / "mgr/default.git").string() + " ls-tree -r --name-only main").output,
      "default/ecelerity.conf\n");
  auto nothing = a.Commit(*remote_, opts);
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->nothing_to_commit);
}

TEST_F(WorkingCopyTest, RollbackMakesANewRevisionWithOldFiles) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  git_oid first = *a.Revision();
  Commit(a, "default/ecelerity.conf", "v2\n");
  ASSERT_TRUE(b.Pull(*remote_, {}).ok());
  auto r = b.Rollback(*remote_, OidToHex(first).substr(0, 10), {}, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, Outcome::kApplied);
  EXPECT_EQ(ReadFile(Wc("b") / "default/ecelerity.conf"), "line1\nline2\nline3\nline4\nline5\n");
  auto log = b.Log(10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[0].summary, "Rollback to " + OidToHex(first));
  EXPECT_EQ(b.Rollback(*remote_, "nonsense", {}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(WorkingCopyTest, ReloadHookRunsAfterTheSwap) {
  WorkingCopy a = Node("a");
  WorkingCopy b = Node("b");
  git_oid rev = Commit(a, "x.conf", "1\n");
  PullOptions opts;
  fs::path out = dir_ / "reloaded";
  opts.reloader = ShellReloader("cat \"$EC_CONF_DIR/x.conf\" > " + out.string() +
                                " && echo \"$EC_CONF_REVISION\" >> " + out.string());
  auto r = b.Pull(*remote_, opts);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->reload_failed) << r->reload_output;
  EXPECT_EQ(ReadFile(out), "1\n" + OidToHex(rev) + "\n");
  Commit(a, "x.conf", "2\n");
  opts.reloader = ShellReloader("echo ecmta not running; exit 3");
  auto failed = b.Pull(*remote_, opts);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->outcome, Outcome::kApplied);
  EXPECT_TRUE(failed->reload_failed);
  EXPECT_EQ(failed->reload_output, "ecmta not running\n");
}

TEST_F(WorkingCopyTest, PlainDirectoryIsNotTakenOver) {
  fs::create_directories(Wc("c") / "default");
  WorkingCopy c(Wc("c"));
  auto r = c.Pull(*remote_, {});
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::is_directory(Wc("c") / "default"));
}

}  // namespace
}  // namespace ec::eccfg
