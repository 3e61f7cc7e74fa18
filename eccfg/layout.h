// The on-disk layout of a node's working copy and the atomic steps that change it. For a
// working copy at <etc>/conf:
//   <etc>/conf                 symlink -> conf.<rev12>.<rand8> (relative); the path the MTA reads
//   <etc>/conf.<rev12>.<rand8>/ a real git work tree; its .git borrows objects from the store
//                               through objects/info/alternates, so stock git works in it
//   <etc>/.conf.store.git/     bare repository: every fetched object, refs/heads/main = applied
//   <etc>/.conf.lock           flock: pulls and commits on this working copy serialise
//   <etc>/.conf.swap.<rand>    a symlink being renamed over conf (exists only for an instant)
// `conf` is swapped by rename(2) of a fresh symlink, so at every instant it names one whole
// checkout. Anything matching the checkout or swap patterns that `conf` does not point at is
// debris of a killed pull and is removed under the lock. Not thread-safe; callers hold the lock.
#pragma once

#include <git2.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "common/base/status.h"
#include "ecconfigd/git_handles.h"

namespace ec::eccfg {

class Layout {
 public:
  explicit Layout(std::filesystem::path wc);

  const std::filesystem::path& wc() const { return wc_; }
  const std::filesystem::path& etc() const { return etc_; }
  std::filesystem::path store() const;
  std::filesystem::path lock_file() const;

  // The directory `wc` points at, nullopt if `wc` does not exist yet; FailedPrecondition if it
  // is not a symlink managed by eccfg.
  Result<std::optional<std::filesystem::path>> CurrentCheckout() const;
  // Same, but NotFound-style FailedPrecondition when there is no working copy yet.
  Result<std::filesystem::path> RequireCheckout() const;

  // Removes checkout directories and swap links left by killed pulls (all but `keep`).
  void RemoveDebris(const std::optional<std::filesystem::path>& keep) const;

  // Opens the object store, creating it (atomically) on first use. Removes stale git lock files
  // a killed process may have left: the caller holds the working-copy lock, so none is live.
  Result<ecconfigd::RepositoryPtr> OpenStore() const;

  // A new, unused checkout directory name for `rev` (not created).
  std::filesystem::path NewCheckoutDir(const git_oid& rev) const;

  // Creates `dir` as a git work tree at `rev` (HEAD -> refs/heads/main = rev, index = rev) whose
  // files are `files_tree` (rev's tree when nullopt; a merged tree that may hold local edits
  // otherwise). `extra_objects` is an objects dir where `files_tree`'s objects may live.
  Status CreateCheckout(const std::filesystem::path& dir, const git_oid& rev,
                        const std::optional<git_oid>& files_tree,
                        const std::optional<std::filesystem::path>& extra_objects) const;

  // Points `wc` at `dir` with one rename(2).
  Status SwapTo(const std::filesystem::path& dir) const;

 private:
  std::filesystem::path wc_;
  std::filesystem::path etc_;
  std::string name_;
};

// Opens a checkout's git repository.
Result<ecconfigd::RepositoryPtr> OpenCheckout(const std::filesystem::path& dir);
// refs/heads/main of a checkout: the revision its files are based on.
Result<git_oid> CheckoutRevision(git_repository* repo);

// Files left with conflict markers by `pull --manual`, kept in <checkout>/.git/ec-conflicts.
std::set<std::string> ReadConflicts(const std::filesystem::path& checkout);
Status WriteConflicts(const std::filesystem::path& checkout, const std::set<std::string>& paths);

}  // namespace ec::eccfg
