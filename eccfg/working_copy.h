// A node's config working copy and Momentum's eccfg commands on it: pull (fetch, merge local
// edits, check out into a new directory, validate, swap with one rename(2), reload), commit
// (fast-forward push of local edits), status, diff, log, revert, resolve and rollback.
// See layout.h for the files on disk. Pulls and commits take the working copy's flock, so two of
// them (in any processes) serialise, and a pull killed at any moment leaves `conf` naming one
// whole revision; its debris is removed by the next one. One thread at a time per object.
#pragma once

#include <git2.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "eccfg/hooks.h"
#include "eccfg/layout.h"
#include "eccfg/merge.h"
#include "eccfg/remote.h"

namespace ec::eccfg {

struct PullOptions {
  ConflictPolicy policy = ConflictPolicy::kRefuse;
  // Checks each new checkout before it is swapped in (hooks.h); a refusal leaves everything as
  // it was. Unset: no validation.
  Validator validator;
  // Runs after a successful swap (hooks.h). Unset: none.
  Reloader reloader;
  std::chrono::milliseconds lock_timeout{std::chrono::minutes(2)};
};

struct PullReport {
  enum class Outcome {
    kUpToDate,  // nothing changed
    kApplied,   // the working copy is now at `revision`
    kConflict,  // local edits conflict with the new revision; nothing changed
    kInvalid,   // the validator refused the merged result; nothing changed
  };
  Outcome outcome = Outcome::kUpToDate;
  git_oid revision{};
  bool merged_local_edits = false;
  std::set<std::string> conflicts;  // kConflict: refused paths; kApplied+manual: marked paths
  std::string validator_output;     // kInvalid
  bool reload_failed = false;       // kApplied but the reload hook failed
  std::string reload_output;
  // kApplied with conflict markers (--manual): not validated, not reloaded; that happens when
  // the last conflict is resolved (eccfg resolve).
  bool reload_deferred = false;
};

struct CommitOptions {
  std::string message = "eccfg commit";
  bool add_all = false;     // also commit files git does not track yet
  bool delete_all = false;  // commit the removal of tracked files that are missing
  std::string author_name = "eccfg";
  std::string author_email = "eccfg@localhost";
  std::chrono::milliseconds lock_timeout{std::chrono::minutes(2)};
};

struct CommitReport {
  bool nothing_to_commit = false;
  git_oid revision{};
  std::vector<std::string> not_added;  // untracked files left out (no --add-all)
};

struct FileStatus {
  char code;  // M modified, A added (staged), D deleted (staged), ! missing, ? untracked,
              // C conflicted (after pull --manual)
  std::string path;
  bool operator==(const FileStatus&) const = default;
};

struct LogEntry {
  git_oid id;
  int64_t time;
  std::string author;
  std::string summary;
};

class WorkingCopy {
 public:
  explicit WorkingCopy(std::filesystem::path wc) : layout_(std::move(wc)) {}
  const Layout& layout() const { return layout_; }

  // Also the first checkout (bootstrap) when the working copy does not exist yet.
  Result<PullReport> Pull(Remote& remote, const PullOptions& options);
  Result<CommitReport> Commit(Remote& remote, const CommitOptions& options);
  // Commits a new revision whose files are those of `rev` (a revision id or unique prefix), then
  // pulls it. Local edits are kept (merged like any pull).
  Result<PullReport> Rollback(Remote& remote, std::string_view rev, const CommitOptions& commit,
                              const PullOptions& pull);

  Result<git_oid> Revision() const;
  Result<std::vector<FileStatus>> Status() const;
  Result<std::string> Diff() const;
  Result<std::vector<LogEntry>> Log(size_t max_entries) const;
  // Throws away local edits of one file (path relative to the working copy, or absolute inside it).
  ec::Status Revert(const std::string& path);
  // Marks a file conflicted by pull --manual as settled; refused while it has conflict markers.
  ec::Status Resolve(const std::string& path);

 private:
  Result<std::string> RelativePath(const std::filesystem::path& checkout,
                                   const std::string& path) const;
  Result<PullReport> PullLocked(Remote& remote, const PullOptions& options);

  Layout layout_;
};

std::string_view OutcomeName(PullReport::Outcome outcome);

}  // namespace ec::eccfg
