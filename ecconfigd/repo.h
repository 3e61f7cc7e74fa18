// The manager's config repository: one bare git repository per subcluster, holding a single
// branch (refs/heads/main; HEAD points at it). It is created from a directory tree (the shipped
// conf/), hands out packs of what a node lacks, and accepts pushes that fast-forward its head.
// Every change is crash-safe: objects land first (packs are indexed to a temporary name and
// renamed), then the branch moves by git's lockfile-and-rename, so a kill at any moment leaves a
// repository that stock `git fsck` accepts and that still points at a whole revision.
// Pushes are serialised across threads and processes by an flock on <repo>/ecconfigd.lock.
// A Repo object is used by one thread at a time.
#pragma once

#include <git2.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "ecconfigd/git_handles.h"

namespace ec::ecconfigd {

inline constexpr char kBranchRef[] = "refs/heads/main";

struct Author {
  std::string name = "ecconfigd";
  std::string email = "ecconfigd@localhost";
};

class Repo {
 public:
  // Creates a bare repository at `path` (which must not exist) whose first commit holds the files
  // under `seed_dir` (may be empty or missing: an empty tree). Built under a temporary name and
  // renamed into place, so a crash never leaves a half-made repository at `path`.
  static Result<Repo> Create(const std::filesystem::path& path,
                             const std::filesystem::path& seed_dir, const Author& author,
                             std::string_view message = "Initial configuration");
  static Result<Repo> Open(const std::filesystem::path& path);
  // Open if `path` exists, else Create.
  static Result<Repo> OpenOrCreate(const std::filesystem::path& path,
                                   const std::filesystem::path& seed_dir, const Author& author);

  const std::filesystem::path& path() const { return path_; }
  git_repository* raw() const { return repo_.get(); }

  Result<git_oid> Head() const;

  // The objects reachable from the head and not from `have` (nullopt: everything).
  Result<std::string> PackSince(const std::optional<git_oid>& have) const;

  // Indexes `pack`, then moves the branch from `expected_head` to `new_head`, atomically and only
  // as a fast-forward: if the head is no longer `expected_head`, or `new_head` does not descend
  // from it, nothing moves and the result is FailedPrecondition naming the current head. A pack
  // that is corrupt or lacks objects of `new_head` is InvalidArgument. Returns the new head.
  Result<git_oid> Push(const git_oid& expected_head, const git_oid& new_head, std::string_view pack,
                       std::string_view who);

  // The content of `path` in the head's tree; nullopt when there is no such file.
  Result<std::optional<std::string>> ReadFile(std::string_view path) const;
  // A commit on top of `expected_head` whose tree is the head's with `files` (path -> content)
  // written, by `who`; the branch then moves exactly as for Push (same lock, same checks).
  Result<git_oid> CommitFiles(const git_oid& expected_head,
                              const std::map<std::string, std::string>& files,
                              std::string_view message, std::string_view who);

 private:
  Repo(std::filesystem::path path, RepositoryPtr repo)
      : path_(std::move(path)), repo_(std::move(repo)) {}
  // Moves the branch from `current` to `new_head` (a descendant); the caller holds the lock.
  Result<git_oid> AdvanceBranch(const git_oid& expected_head, const git_oid& current,
                                const git_oid& new_head, std::string_view log);

  std::filesystem::path path_;
  RepositoryPtr repo_;
};

// Writes the files under `dir` (recursively, skipping .git and anything not a file or a
// directory) as a tree into `repo`'s object store. Empty directories are dropped, as git does.
Result<git_oid> WriteTreeFromDirectory(git_repository* repo, const std::filesystem::path& dir);

// The message of a "stale base" refusal, shared by server and client so both print the same.
std::string StaleHeadMessage(const git_oid& expected, const git_oid& current);

}  // namespace ec::ecconfigd
