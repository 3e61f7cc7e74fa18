// Three-way merge of a node's uncommitted edits into a new revision: base = the revision the
// working copy was checked out at, ours = its files as they are now (tracked edits, deletions and
// untracked files), theirs = the new revision. Conflicts are refused, or settled by a policy:
// mine (local side wins: hunk by hunk, whole file for edit/delete), theirs (repository wins), or
// manual (the file gets conflict markers and is listed as conflicted). Runs on the caller's
// thread; the repository is the old checkout's (it sees the store through alternates).
#pragma once

#include <git2.h>

#include <set>
#include <string>

#include "common/base/status.h"

namespace ec::eccfg {

enum class ConflictPolicy { kRefuse, kMine, kTheirs, kManual };

// The tree of the work tree's current files, written into `repo`'s own object store. The
// on-disk index is left alone.
Result<git_oid> WriteWorkTreeTree(git_repository* repo);

struct MergeOutcome {
  git_oid tree;                     // the merged files (valid unless refused)
  std::set<std::string> conflicts;  // conflicting paths (settled unless policy is kRefuse)
};

// Merges ours (a tree) into theirs (a commit) over base (a commit). With kRefuse and conflicts,
// `tree` is unset and `conflicts` lists them; nothing is written.
Result<MergeOutcome> MergeLocalEdits(git_repository* repo, const git_oid& base,
                                     const git_oid& ours_tree, const git_oid& theirs,
                                     ConflictPolicy policy);

}  // namespace ec::eccfg
