// WorkingCopy's read-only commands and single-file edits: revision, status, diff, log, revert,
// resolve; plus the queries on a checkout that pull and commit share (working_copy_queries.h).
#include <fstream>
#include <system_error>

#include "eccfg/working_copy.h"
#include "eccfg/working_copy_queries.h"
#include "ecconfigd/file_lock.h"
#include "ecconfigd/repo.h"

namespace ec::eccfg {
namespace fs = std::filesystem;
using ecconfigd::FileLock;
using ecconfigd::GitError;
using ecconfigd::OidToHex;
using ecconfigd::RepositoryPtr;
using ecconfigd::ShortOid;

Result<git_oid> TreeOfCommit(git_repository* repo, const git_oid& commit_id) {
  git_commit* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&raw, repo, &commit_id),
                         "reading revision " + OidToHex(commit_id));
  ecconfigd::CommitPtr commit(raw);
  return *git_commit_tree_id(commit.get());
}

Result<std::vector<FileStatus>> ListStatus(git_repository* repo, const fs::path& checkout) {
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
               GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_SORT_CASE_SENSITIVELY;
  git_status_list* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_status_list_new(&raw, repo, &opts), "listing local edits");
  ecconfigd::StatusListPtr list(raw);
  std::set<std::string> conflicts = ReadConflicts(checkout);
  std::vector<FileStatus> out;
  for (size_t i = 0, n = git_status_list_entrycount(list.get()); i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list.get(), i);
    const git_diff_delta* d =
        e->index_to_workdir != nullptr ? e->index_to_workdir : e->head_to_index;
    if (d == nullptr) continue;
    std::string path = d->new_file.path != nullptr ? d->new_file.path : d->old_file.path;
    unsigned s = e->status;
    char code = 0;
    if (conflicts.count(path) != 0) {
      code = 'C';
    } else if (s & GIT_STATUS_WT_NEW) {
      code = (s & GIT_STATUS_INDEX_NEW) ? 'A' : '?';
    } else if (s & GIT_STATUS_WT_DELETED) {
      code = (s & GIT_STATUS_INDEX_NEW) ? 'A' : '!';
    } else if (s & GIT_STATUS_INDEX_DELETED) {
      code = 'D';
    } else if (s & GIT_STATUS_INDEX_NEW) {
      code = 'A';
    } else if (s &
               (GIT_STATUS_WT_MODIFIED | GIT_STATUS_INDEX_MODIFIED | GIT_STATUS_WT_TYPECHANGE |
                GIT_STATUS_INDEX_TYPECHANGE | GIT_STATUS_WT_RENAMED | GIT_STATUS_INDEX_RENAMED)) {
      code = 'M';
    }
    if (code != 0) out.push_back({code, path});
  }
  // A conflicted file whose markers happen to equal the revision still counts as conflicted.
  for (const std::string& c : conflicts) {
    bool listed = false;
    for (const FileStatus& f : out) listed = listed || f.path == c;
    if (!listed) out.push_back({'C', c});
  }
  return out;
}

Result<git_oid> WorkingCopy::Revision() const {
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  return CheckoutRevision(repo.get());
}

Result<std::vector<FileStatus>> WorkingCopy::Status() const {
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  return ListStatus(repo.get(), checkout);
}

Result<std::string> WorkingCopy::Diff() const {
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  EC_ASSIGN_OR_RETURN(git_oid head, CheckoutRevision(repo.get()));
  EC_ASSIGN_OR_RETURN(git_oid head_tree_id, TreeOfCommit(repo.get(), head));
  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo.get(), &head_tree_id), "reading files");
  ecconfigd::TreePtr tree(tree_raw);
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS |
               GIT_DIFF_SHOW_UNTRACKED_CONTENT;
  git_diff* diff_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_diff_tree_to_workdir_with_index(&diff_raw, repo.get(), tree.get(), &opts),
      "comparing with " + ShortOid(head));
  ecconfigd::DiffPtr diff(diff_raw);
  std::string out;
  auto print = [](const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line,
                  void* payload) -> int {
    auto* s = static_cast<std::string*>(payload);
    if (line->origin == GIT_DIFF_LINE_CONTEXT || line->origin == GIT_DIFF_LINE_ADDITION ||
        line->origin == GIT_DIFF_LINE_DELETION) {
      s->push_back(line->origin);
    }
    s->append(line->content, line->content_len);
    return 0;
  };
  EC_GIT_RETURN_IF_ERROR(git_diff_print(diff.get(), GIT_DIFF_FORMAT_PATCH, print, &out),
                         "printing the diff");
  return out;
}

Result<std::vector<LogEntry>> WorkingCopy::Log(size_t max_entries) const {
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  git_revwalk* walk_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_revwalk_new(&walk_raw, repo.get()), "reading history");
  ecconfigd::RevwalkPtr walk(walk_raw);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  EC_GIT_RETURN_IF_ERROR(git_revwalk_push_ref(walk.get(), ecconfigd::kBranchRef),
                         "reading history");
  std::vector<LogEntry> out;
  git_oid id;
  while (out.size() < max_entries && git_revwalk_next(&id, walk.get()) == 0) {
    git_commit* raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&raw, repo.get(), &id), "reading history");
    ecconfigd::CommitPtr commit(raw);
    const git_signature* author = git_commit_author(commit.get());
    const char* summary = git_commit_summary(commit.get());
    out.push_back({id, static_cast<int64_t>(git_commit_time(commit.get())),
                   author != nullptr ? author->name : "", summary != nullptr ? summary : ""});
  }
  return out;
}

Result<std::string> WorkingCopy::RelativePath(const fs::path& checkout,
                                              const std::string& path) const {
  fs::path p(path);
  if (p.is_absolute()) {
    for (const fs::path& root : {layout_.wc(), checkout}) {
      fs::path rel = p.lexically_normal().lexically_relative(root);
      if (!rel.empty() && *rel.begin() != "..") return rel.generic_string();
    }
    return InvalidArgument(path + " is not inside the working copy " + layout_.wc().string());
  }
  fs::path rel = p.lexically_normal();
  if (rel.empty() || *rel.begin() == "..") return InvalidArgument("bad path " + path);
  return rel.generic_string();
}

ec::Status WorkingCopy::Revert(const std::string& path) {
  EC_ASSIGN_OR_RETURN(FileLock lock,
                      FileLock::Acquire(layout_.lock_file(), std::chrono::minutes(2)));
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(std::string rel, RelativePath(checkout, path));
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  EC_ASSIGN_OR_RETURN(git_oid head, CheckoutRevision(repo.get()));
  EC_ASSIGN_OR_RETURN(git_oid head_tree_id, TreeOfCommit(repo.get(), head));
  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo.get(), &head_tree_id), "reading files");
  ecconfigd::TreePtr tree(tree_raw);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree.get(), rel.c_str()) < 0) {
    git_error_clear();
    return FailedPrecondition(rel + " is not under version control");
  }
  git_tree_entry_free(entry);
  std::string rel_copy = rel;
  char* paths[] = {rel_copy.data()};
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  opts.paths = {paths, 1};
  git_object* tree_obj = reinterpret_cast<git_object*>(tree.get());
  EC_GIT_RETURN_IF_ERROR(git_checkout_tree(repo.get(), tree_obj, &opts), "reverting " + rel);
  std::set<std::string> conflicts = ReadConflicts(checkout);
  if (conflicts.erase(rel) != 0) EC_RETURN_IF_ERROR(WriteConflicts(checkout, conflicts));
  return ec::Status::Ok();
}

ec::Status WorkingCopy::Resolve(const std::string& path) {
  EC_ASSIGN_OR_RETURN(FileLock lock,
                      FileLock::Acquire(layout_.lock_file(), std::chrono::minutes(2)));
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(std::string rel, RelativePath(checkout, path));
  std::set<std::string> conflicts = ReadConflicts(checkout);
  if (conflicts.count(rel) == 0) return FailedPrecondition(rel + " is not in conflict");
  std::ifstream in(checkout / rel);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("<<<<<<< ", 0) == 0 || line.rfind(">>>>>>> ", 0) == 0) {
      return FailedPrecondition(rel + " still has conflict markers; edit it first");
    }
  }
  conflicts.erase(rel);
  return WriteConflicts(checkout, conflicts);
}

}  // namespace ec::eccfg
