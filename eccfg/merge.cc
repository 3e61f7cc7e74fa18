#include "eccfg/merge.h"

#include <git2/sys/index.h>

#include <optional>
#include <vector>

#include "ecconfigd/git_handles.h"

namespace ec::eccfg {
using ecconfigd::GitError;
namespace {

struct Conflict {
  std::string path;
  std::optional<git_index_entry> ancestor, ours, theirs;
};

std::optional<git_index_entry> Copy(const git_index_entry* e) {
  if (e == nullptr) return std::nullopt;
  return *e;  // `path` still points into the index: fixed up by the caller
}

Result<ecconfigd::TreePtr> CommitTree(git_repository* repo, const git_oid& commit_id) {
  git_commit* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&raw, repo, &commit_id),
                         "reading revision " + ecconfigd::OidToHex(commit_id));
  ecconfigd::CommitPtr commit(raw);
  git_tree* tree = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_tree(&tree, commit.get()), "reading a revision's files");
  return ecconfigd::TreePtr(tree);
}

Status AddEntry(git_index* index, const std::string& path, const git_oid& id, uint32_t mode) {
  git_index_entry entry{};
  entry.path = path.c_str();
  entry.id = id;
  entry.mode = mode;
  EC_GIT_RETURN_IF_ERROR(git_index_add(index, &entry), "merging " + path);
  return Status::Ok();
}

// Content merge of both sides with a favour (or markers when `favor` is NORMAL).
Status MergeContent(git_repository* repo, git_index* index, const Conflict& c,
                    git_merge_file_favor_t favor) {
  git_merge_file_options opts = GIT_MERGE_FILE_OPTIONS_INIT;
  opts.favor = favor;
  opts.our_label = "local";
  opts.their_label = "repository";
  opts.ancestor_label = "base";
  git_merge_file_result result{};
  int rc = git_merge_file_from_index(&result, repo, c.ancestor ? &*c.ancestor : nullptr, &*c.ours,
                                     &*c.theirs, &opts);
  if (rc < 0) return GitError(rc, "merging " + c.path);
  git_oid blob;
  rc = git_blob_create_from_buffer(&blob, repo, result.ptr, result.len);
  uint32_t mode = result.mode != 0 ? result.mode : c.ours->mode;
  git_merge_file_result_free(&result);
  if (rc < 0) return GitError(rc, "storing the merge of " + c.path);
  return AddEntry(index, c.path, blob, mode);
}

}  // namespace

Result<git_oid> WriteWorkTreeTree(git_repository* repo) {
  git_index* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_index(&raw, repo), "reading the index");
  ecconfigd::IndexPtr index(raw);
  char star[] = "*";
  char* patterns[] = {star};
  git_strarray all = {patterns, 1};
  EC_GIT_RETURN_IF_ERROR(
      git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr),
      "reading the working copy's files");
  EC_GIT_RETURN_IF_ERROR(git_index_update_all(index.get(), &all, nullptr, nullptr),
                         "reading the working copy's deletions");
  git_oid tree;
  EC_GIT_RETURN_IF_ERROR(git_index_write_tree(&tree, index.get()), "recording local edits");
  // Forget the in-memory changes: the on-disk index must keep describing the checked-out revision.
  if (git_index_read(index.get(), 1) < 0) git_error_clear();
  return tree;
}

Result<MergeOutcome> MergeLocalEdits(git_repository* repo, const git_oid& base,
                                     const git_oid& ours_tree, const git_oid& theirs,
                                     ConflictPolicy policy) {
  EC_ASSIGN_OR_RETURN(ecconfigd::TreePtr base_tree, CommitTree(repo, base));
  EC_ASSIGN_OR_RETURN(ecconfigd::TreePtr their_tree, CommitTree(repo, theirs));
  git_tree* our_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&our_raw, repo, &ours_tree), "reading local edits");
  ecconfigd::TreePtr our_tree(our_raw);

  git_merge_options opts = GIT_MERGE_OPTIONS_INIT;
  opts.flags = GIT_MERGE_FIND_RENAMES;
  git_index* merged_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_merge_trees(&merged_raw, repo, base_tree.get(), our_tree.get(), their_tree.get(), &opts),
      "merging local edits");
  ecconfigd::IndexPtr merged(merged_raw);

  std::vector<Conflict> conflicts;
  {
    git_index_conflict_iterator* it_raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_index_conflict_iterator_new(&it_raw, merged.get()),
                           "listing conflicts");
    ecconfigd::ConflictIteratorPtr it(it_raw);
    const git_index_entry *anc, *our, *their;
    while (git_index_conflict_next(&anc, &our, &their, it.get()) == 0) {
      Conflict c;
      const git_index_entry* any = our != nullptr ? our : (their != nullptr ? their : anc);
      c.path = any->path;
      c.ancestor = Copy(anc);
      c.ours = Copy(our);
      c.theirs = Copy(their);
      conflicts.push_back(std::move(c));
    }
  }
  // Entry paths pointed into the iterator's index; repoint them at our own strings.
  for (Conflict& c : conflicts) {
    for (auto* e : {&c.ancestor, &c.ours, &c.theirs}) {
      if (*e) (*e)->path = c.path.c_str();
    }
  }

  MergeOutcome outcome{};
  for (const Conflict& c : conflicts) outcome.conflicts.insert(c.path);
  if (!conflicts.empty() && policy == ConflictPolicy::kRefuse) return outcome;

  for (const Conflict& c : conflicts) {
    EC_GIT_RETURN_IF_ERROR(git_index_conflict_remove(merged.get(), c.path.c_str()),
                           "settling " + c.path);
    if (c.ours && c.theirs) {
      git_merge_file_favor_t favor = policy == ConflictPolicy::kMine ? GIT_MERGE_FILE_FAVOR_OURS
                                     : policy == ConflictPolicy::kTheirs
                                         ? GIT_MERGE_FILE_FAVOR_THEIRS
                                         : GIT_MERGE_FILE_FAVOR_NORMAL;
      EC_RETURN_IF_ERROR(MergeContent(repo, merged.get(), c, favor));
      continue;
    }
    // One side deleted the file, the other changed it.
    const std::optional<git_index_entry>& chosen = policy == ConflictPolicy::kTheirs ? c.theirs
                                                   : policy == ConflictPolicy::kMine
                                                       ? c.ours
                                                       : (c.ours ? c.ours : c.theirs);
    if (chosen) EC_RETURN_IF_ERROR(AddEntry(merged.get(), c.path, chosen->id, chosen->mode));
  }
  if (policy != ConflictPolicy::kManual) outcome.conflicts.clear();
  EC_GIT_RETURN_IF_ERROR(git_index_write_tree_to(&outcome.tree, merged.get(), repo),
                         "writing the merged files");
  return outcome;
}

}  // namespace ec::eccfg
