#include "eccfg/working_copy.h"

#include <fstream>
#include <system_error>

#include "eccfg/working_copy_queries.h"
#include "ecconfigd/file_lock.h"
#include "ecconfigd/pack.h"
#include "ecconfigd/repo.h"

namespace ec::eccfg {
namespace fs = std::filesystem;
using ecconfigd::FileLock;
using ecconfigd::GitError;
using ecconfigd::OidToHex;
using ecconfigd::RepositoryPtr;
using ecconfigd::ShortOid;

namespace {

Status RecordInStore(git_repository* store, const git_oid& rev) {
  git_reference* ref = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_reference_create(&ref, store, ecconfigd::kBranchRef, &rev, 1, "eccfg"),
                         "recording revision " + OidToHex(rev));
  git_reference_free(ref);
  return Status::Ok();
}

std::string JoinPaths(const std::set<std::string>& paths) {
  std::string s;
  for (const std::string& p : paths) s += (s.empty() ? "" : ", ") + p;
  return s;
}

}  // namespace

std::string_view OutcomeName(PullReport::Outcome outcome) {
  switch (outcome) {
    case PullReport::Outcome::kUpToDate:
      return "up-to-date";
    case PullReport::Outcome::kApplied:
      return "applied";
    case PullReport::Outcome::kConflict:
      return "conflict";
    case PullReport::Outcome::kInvalid:
      return "invalid";
  }
  return "?";
}

Result<PullReport> WorkingCopy::Pull(Remote& remote, const PullOptions& options) {
  std::error_code ec;
  fs::create_directories(layout_.etc(), ec);
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(layout_.lock_file(), options.lock_timeout));
  return PullLocked(remote, options);
}

Result<PullReport> WorkingCopy::PullLocked(Remote& remote, const PullOptions& options) {
  EC_ASSIGN_OR_RETURN(std::optional<fs::path> current, layout_.CurrentCheckout());
  layout_.RemoveDebris(current);
  EC_ASSIGN_OR_RETURN(RepositoryPtr store, layout_.OpenStore());

  std::optional<git_oid> base;
  if (current) {
    std::set<std::string> pending = ReadConflicts(*current);
    if (!pending.empty()) {
      return FailedPrecondition("unresolved conflicts in " + JoinPaths(pending) +
                                "; edit them, then eccfg resolve FILE");
    }
    EC_ASSIGN_OR_RETURN(RepositoryPtr old_repo, OpenCheckout(*current));
    EC_ASSIGN_OR_RETURN(base, CheckoutRevision(old_repo.get()));
  }

  EC_ASSIGN_OR_RETURN(FetchResult fetched, remote.Fetch(base));
  PullReport report;
  report.revision = fetched.head;
  if (base && git_oid_equal(&*base, &fetched.head)) return report;

  EC_RETURN_IF_ERROR(ecconfigd::IndexPack(store.get(), fetched.pack));
  std::vector<git_oid> hides;
  if (base) hides.push_back(*base);
  EC_RETURN_IF_ERROR(ecconfigd::CheckConnected(store.get(), fetched.head, hides));
  EC_RETURN_IF_ERROR(RecordInStore(store.get(), fetched.head));

  std::optional<git_oid> files_tree;
  std::optional<fs::path> extra_objects;
  std::set<std::string> marked;
  if (current) {
    // Opened after the pack landed, so the new revision is visible through alternates.
    EC_ASSIGN_OR_RETURN(RepositoryPtr old_repo, OpenCheckout(*current));
    EC_ASSIGN_OR_RETURN(git_oid local_tree, WriteWorkTreeTree(old_repo.get()));
    EC_ASSIGN_OR_RETURN(git_oid base_tree, TreeOfCommit(old_repo.get(), *base));
    if (!git_oid_equal(&local_tree, &base_tree)) {
      EC_ASSIGN_OR_RETURN(MergeOutcome merged, MergeLocalEdits(old_repo.get(), *base, local_tree,
                                                               fetched.head, options.policy));
      if (options.policy == ConflictPolicy::kRefuse && !merged.conflicts.empty()) {
        report.outcome = PullReport::Outcome::kConflict;
        report.conflicts = std::move(merged.conflicts);
        return report;
      }
      report.merged_local_edits = true;
      files_tree = merged.tree;
      extra_objects = *current / ".git/objects";
      marked = std::move(merged.conflicts);
    }
  }

  fs::path dir = layout_.NewCheckoutDir(fetched.head);
  ec::Status made = layout_.CreateCheckout(dir, fetched.head, files_tree, extra_objects);
  if (made.ok()) made = WriteConflicts(dir, marked);
  std::error_code ec;
  if (!made.ok()) {
    fs::remove_all(dir, ec);
    return made;
  }
  // Conflict markers cannot pass a config check; the operator settles them first.
  const bool deferred = !marked.empty();
  if (options.validator && !deferred) {
    auto run = options.validator(dir);
    if (!run.ok() || !run->ok()) {
      fs::remove_all(dir, ec);
      report.outcome = PullReport::Outcome::kInvalid;
      report.validator_output = run.ok() ? run->output : run.status().ToString();
      return report;
    }
  }
  ec::Status swapped = layout_.SwapTo(dir);
  if (!swapped.ok()) {
    fs::remove_all(dir, ec);
    return swapped;
  }
  report.outcome = PullReport::Outcome::kApplied;
  report.conflicts = std::move(marked);

  report.reload_deferred = deferred;
  if (options.reloader && !deferred) {
    auto run = options.reloader(layout_.wc(), fetched.head);
    report.reload_failed = !run.ok() || !run->ok();
    report.reload_output = run.ok() ? run->output : run.status().ToString();
  }
  // Removed after the reload, so ecmta runs the new revision sooner; a kill before this leaves
  // debris that the next pull removes.
  if (current) fs::remove_all(*current, ec);
  return report;
}

Result<CommitReport> WorkingCopy::Commit(Remote& remote, const CommitOptions& options) {
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(layout_.lock_file(), options.lock_timeout));
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  std::set<std::string> pending = ReadConflicts(checkout);
  if (!pending.empty()) {
    return FailedPrecondition("unresolved conflicts in " + JoinPaths(pending) +
                              "; edit them, then eccfg resolve FILE");
  }
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  EC_ASSIGN_OR_RETURN(git_oid head, CheckoutRevision(repo.get()));
  EC_ASSIGN_OR_RETURN(std::vector<FileStatus> changes, ListStatus(repo.get(), checkout));

  CommitReport report;
  for (const FileStatus& f : changes) {
    if (f.code == '!' && !options.delete_all) {
      return FailedPrecondition(f.path +
                                " is missing: commit with --delete-all to remove it "
                                "from the repository, or eccfg revert " +
                                f.path);
    }
    if (f.code == '?' && !options.add_all) report.not_added.push_back(f.path);
  }

  git_index* index_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_index(&index_raw, repo.get()), "reading the index");
  ecconfigd::IndexPtr index(index_raw);
  char star[] = "*";
  char* patterns[] = {star};
  git_strarray all = {patterns, 1};
  EC_GIT_RETURN_IF_ERROR(git_index_update_all(index.get(), &all, nullptr, nullptr),
                         "reading edited files");
  if (options.add_all) {
    EC_GIT_RETURN_IF_ERROR(
        git_index_add_all(index.get(), &all, GIT_INDEX_ADD_DEFAULT, nullptr, nullptr),
        "adding new files");
  }
  git_oid tree_id;
  EC_GIT_RETURN_IF_ERROR(git_index_write_tree(&tree_id, index.get()), "writing the new files");
  EC_ASSIGN_OR_RETURN(git_oid head_tree, TreeOfCommit(repo.get(), head));
  if (git_oid_equal(&tree_id, &head_tree)) {
    report.nothing_to_commit = true;
    report.revision = head;
    return report;
  }

  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo.get(), &tree_id), "reading new files");
  ecconfigd::TreePtr tree(tree_raw);
  git_commit* parent_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&parent_raw, repo.get(), &head), "reading the base");
  ecconfigd::CommitPtr parent(parent_raw);
  git_signature* sig_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_signature_now(&sig_raw, options.author_name.c_str(), options.author_email.c_str()),
      "making the author signature");
  ecconfigd::SignaturePtr sig(sig_raw);
  std::string message = options.message.empty() ? "eccfg commit\n" : options.message + "\n";
  const git_commit* parents[] = {parent.get()};
  git_oid commit_id;
  EC_GIT_RETURN_IF_ERROR(git_commit_create(&commit_id, repo.get(), nullptr, sig.get(), sig.get(),
                                           nullptr, message.c_str(), tree.get(), 1, parents),
                         "writing the commit");
  EC_ASSIGN_OR_RETURN(std::string pack, ecconfigd::BuildPack(repo.get(), commit_id, {head}));
  EC_ASSIGN_OR_RETURN(git_oid pushed, remote.Push(head, commit_id, pack));

  // Accepted: the store gets the objects, and the working copy is now clean at the new revision.
  EC_ASSIGN_OR_RETURN(RepositoryPtr store, layout_.OpenStore());
  EC_RETURN_IF_ERROR(ecconfigd::IndexPack(store.get(), pack));
  EC_RETURN_IF_ERROR(RecordInStore(store.get(), pushed));
  EC_GIT_RETURN_IF_ERROR(git_index_write(index.get()), "writing the index");
  git_reference* ref = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_reference_create(&ref, repo.get(), ecconfigd::kBranchRef, &pushed, 1, "eccfg commit"),
      "moving the working copy to the new revision");
  git_reference_free(ref);
  report.revision = pushed;
  return report;
}

Result<PullReport> WorkingCopy::Rollback(Remote& remote, std::string_view rev,
                                         const CommitOptions& commit, const PullOptions& pull) {
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(layout_.lock_file(), pull.lock_timeout));
  // Bring the working copy to the head first, so the rollback commit is not stale.
  EC_ASSIGN_OR_RETURN(PullReport first, PullLocked(remote, pull));
  if (first.outcome == PullReport::Outcome::kConflict ||
      first.outcome == PullReport::Outcome::kInvalid) {
    return first;
  }
  EC_ASSIGN_OR_RETURN(fs::path checkout, layout_.RequireCheckout());
  EC_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenCheckout(checkout));
  EC_ASSIGN_OR_RETURN(git_oid head, CheckoutRevision(repo.get()));
  git_object* target_raw = nullptr;
  std::string spec(rev);
  if (git_revparse_single(&target_raw, repo.get(), spec.c_str()) < 0) {
    return InvalidArgument("unknown revision " + spec + " (see eccfg log)");
  }
  ecconfigd::ObjectPtr target(target_raw);
  git_object* peeled_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_object_peel(&peeled_raw, target.get(), GIT_OBJECT_COMMIT),
                         spec + " is not a revision");
  ecconfigd::ObjectPtr peeled(peeled_raw);
  const git_oid* target_id = git_object_id(peeled.get());
  int ancestor = git_graph_descendant_of(repo.get(), &head, target_id);
  if (!git_oid_equal(target_id, &head) && ancestor != 1) {
    return InvalidArgument(spec + " is not in the history of " + ShortOid(head));
  }
  EC_ASSIGN_OR_RETURN(git_oid target_tree, TreeOfCommit(repo.get(), *target_id));
  EC_ASSIGN_OR_RETURN(git_oid head_tree, TreeOfCommit(repo.get(), head));
  PullReport report;
  report.revision = head;
  if (git_oid_equal(&target_tree, &head_tree)) return report;

  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo.get(), &target_tree), "reading files");
  ecconfigd::TreePtr tree(tree_raw);
  git_commit* parent_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&parent_raw, repo.get(), &head), "reading the head");
  ecconfigd::CommitPtr parent(parent_raw);
  git_signature* sig_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_signature_now(&sig_raw, commit.author_name.c_str(), commit.author_email.c_str()),
      "making the author signature");
  ecconfigd::SignaturePtr sig(sig_raw);
  std::string message = "Rollback to " + OidToHex(*target_id) + "\n";
  if (!commit.message.empty() && commit.message != CommitOptions().message) {
    message += "\n" + commit.message + "\n";
  }
  const git_commit* parents[] = {parent.get()};
  git_oid commit_id;
  EC_GIT_RETURN_IF_ERROR(git_commit_create(&commit_id, repo.get(), nullptr, sig.get(), sig.get(),
                                           nullptr, message.c_str(), tree.get(), 1, parents),
                         "writing the rollback commit");
  EC_ASSIGN_OR_RETURN(std::string pack, ecconfigd::BuildPack(repo.get(), commit_id, {head}));
  EC_ASSIGN_OR_RETURN(git_oid pushed, remote.Push(head, commit_id, pack));
  (void)pushed;
  repo.reset();
  // The rollback lands like any new revision: merged with local edits, validated, swapped.
  return PullLocked(remote, pull);
}

}  // namespace ec::eccfg
