#include "ecconfigd/repo.h"

#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <system_error>
#include <vector>

#include "common/log/logger.h"
#include "ecconfigd/file_lock.h"
#include "ecconfigd/pack.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;
namespace {

constexpr auto kPushLockTimeout = std::chrono::seconds(60);
// An ecconfigd killed -9 in the middle of a ref update leaves git's lock files behind, and every
// later push would fail on them. Called holding ecconfigd.lock, which every push holds while it
// writes, so no writer of ours can own them.
void RemoveStaleGitLocks(const fs::path& repo) {
  for (const fs::path& lock :
       {repo / (std::string(kBranchRef) + ".lock"), repo / "packed-refs.lock", repo / "HEAD.lock",
        repo / "logs" / (std::string(kBranchRef) + ".lock")}) {
    std::error_code ec;
    if (fs::remove(lock, ec)) {
      EC_LOG(kWarn, "removed a stale git lock").Field("file", lock.string());
    }
  }
}

Result<git_oid> WriteTreeRecursive(git_repository* repo, const fs::path& dir, bool* empty) {
  git_treebuilder* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_treebuilder_new(&raw, repo, nullptr), "building a tree");
  TreeBuilderPtr builder(raw);
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) return Status(StatusCode::kIoError, "reading " + dir.string() + ": " + ec.message());
  *empty = true;
  for (const fs::directory_entry& entry : it) {
    std::string name = entry.path().filename().string();
    if (name == ".git") continue;
    git_oid id;
    git_filemode_t mode;
    if (entry.is_symlink(ec)) {
      continue;  // a config tree has no reason to hold links
    } else if (entry.is_directory(ec)) {
      bool sub_empty = true;
      EC_ASSIGN_OR_RETURN(id, WriteTreeRecursive(repo, entry.path(), &sub_empty));
      if (sub_empty) continue;
      mode = GIT_FILEMODE_TREE;
    } else if (entry.is_regular_file(ec)) {
      EC_GIT_RETURN_IF_ERROR(git_blob_create_from_disk(&id, repo, entry.path().c_str()),
                             "storing " + entry.path().string());
      struct stat st {};
      bool exec = ::stat(entry.path().c_str(), &st) == 0 && (st.st_mode & S_IXUSR) != 0;
      mode = exec ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    } else {
      continue;
    }
    EC_GIT_RETURN_IF_ERROR(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &id, mode),
                           "adding " + entry.path().string());
    *empty = false;
  }
  git_oid tree_id;
  EC_GIT_RETURN_IF_ERROR(git_treebuilder_write(&tree_id, builder.get()), "writing a tree");
  return tree_id;
}

// A commit and its tree: what reading a file at a revision and committing on top of it share.
struct CommitTree {
  CommitPtr commit;
  TreePtr tree;
};

Result<CommitTree> LookupCommitTree(git_repository* repo, const git_oid& id) {
  git_commit* commit_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_lookup(&commit_raw, repo, &id), "reading the head");
  CommitTree out{CommitPtr(commit_raw), nullptr};
  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_commit_tree(&tree_raw, out.commit.get()), "reading the head's tree");
  out.tree = TreePtr(tree_raw);
  return out;
}

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(::getpid()) + "." + std::to_string(rd() % 1000000);
}

}  // namespace

Result<git_oid> WriteTreeFromDirectory(git_repository* repo, const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    // No seed: the empty tree.
    git_treebuilder* raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_treebuilder_new(&raw, repo, nullptr), "building a tree");
    TreeBuilderPtr builder(raw);
    git_oid id;
    EC_GIT_RETURN_IF_ERROR(git_treebuilder_write(&id, builder.get()), "writing a tree");
    return id;
  }
  bool empty = true;
  return WriteTreeRecursive(repo, dir, &empty);
}

std::string StaleHeadMessage(const git_oid& expected, const git_oid& current) {
  return "stale base: the change is based on " + ShortOid(expected) + " but the repository is at " +
         OidToHex(current) + "; pull first";
}

Result<Repo> Repo::Create(const fs::path& path, const fs::path& seed_dir, const Author& author,
                          std::string_view message) {
  EnsureGitInit();
  std::error_code ec;
  if (fs::exists(path, ec)) return Status(StatusCode::kAlreadyExists, path.string() + " exists");
  fs::path tmp = path;
  tmp += ".tmp." + RandomSuffix();
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags =
      GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  opts.initial_head = "main";
  {
    git_repository* raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_repository_init_ext(&raw, tmp.c_str(), &opts),
                           "creating repository " + tmp.string());
    RepositoryPtr repo(raw);
    EC_ASSIGN_OR_RETURN(git_oid tree_id, WriteTreeFromDirectory(repo.get(), seed_dir));
    git_tree* tree_raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo.get(), &tree_id), "reading a tree");
    TreePtr tree(tree_raw);
    git_signature* sig_raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_signature_now(&sig_raw, author.name.c_str(), author.email.c_str()),
                           "signature");
    SignaturePtr sig(sig_raw);
    git_oid commit_id;
    std::string msg(message);
    msg += "\n";
    EC_GIT_RETURN_IF_ERROR(git_commit_create(&commit_id, repo.get(), "HEAD", sig.get(), sig.get(),
                                             nullptr, msg.c_str(), tree.get(), 0, nullptr),
                           "writing the initial commit");
  }
  fs::create_directories(path.parent_path(), ec);
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    return Status(StatusCode::kIoError, "moving the new repository to " + path.string());
  }
  return Open(path);
}

Result<Repo> Repo::Open(const fs::path& path) {
  EnsureGitInit();
  git_repository* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_open_bare(&raw, path.c_str()),
                         "opening repository " + path.string());
  RepositoryPtr repo(raw);
  {
    EC_ASSIGN_OR_RETURN(FileLock lock,
                        FileLock::Acquire(path / "ecconfigd.lock", kPushLockTimeout));
    RemoveStaleGitLocks(path);
  }
  return Repo(path, std::move(repo));
}

Result<Repo> Repo::OpenOrCreate(const fs::path& path, const fs::path& seed_dir,
                                const Author& author) {
  std::error_code ec;
  if (fs::exists(path, ec)) return Open(path);
  return Create(path, seed_dir, author);
}

Result<git_oid> Repo::Head() const {
  git_oid id;
  EC_GIT_RETURN_IF_ERROR(git_reference_name_to_id(&id, repo_.get(), kBranchRef),
                         "reading the head of " + path_.string());
  return id;
}

Result<std::string> Repo::PackSince(const std::optional<git_oid>& have) const {
  EC_ASSIGN_OR_RETURN(git_oid head, Head());
  std::vector<git_oid> haves;
  if (have) haves.push_back(*have);
  return BuildPack(repo_.get(), head, haves);
}

Result<git_oid> Repo::Push(const git_oid& expected_head, const git_oid& new_head,
                           std::string_view pack, std::string_view who) {
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path_ / "ecconfigd.lock", kPushLockTimeout));
  // Cheap refusal first: a stale base does not get its pack stored.
  EC_ASSIGN_OR_RETURN(git_oid current, Head());
  if (!git_oid_equal(&current, &expected_head)) {
    return FailedPrecondition(StaleHeadMessage(expected_head, current));
  }
  EC_RETURN_IF_ERROR(IndexPack(repo_.get(), pack));
  EC_RETURN_IF_ERROR(CheckConnected(repo_.get(), new_head, {current}));
  return AdvanceBranch(expected_head, current, new_head, "push by " + std::string(who));
}

Result<git_oid> Repo::AdvanceBranch(const git_oid& expected_head, const git_oid& current,
                                    const git_oid& new_head, std::string_view log_message) {
  if (git_oid_equal(&new_head, &current)) return current;
  int descends = git_graph_descendant_of(repo_.get(), &new_head, &current);
  if (descends < 0) return GitError(descends, "checking the ancestry of " + OidToHex(new_head));
  if (descends == 0) {
    return FailedPrecondition("not a fast-forward: " + ShortOid(new_head) +
                              " does not descend from the repository head " + OidToHex(current));
  }
  std::string log(log_message);
  git_reference* ref_raw = nullptr;
  int rc = git_reference_create_matching(&ref_raw, repo_.get(), kBranchRef, &new_head, 1, &current,
                                         log.c_str());
  ReferencePtr ref(ref_raw);
  if (rc == GIT_EMODIFIED) {
    // Another writer that ignored our lock (stock git) moved it.
    EC_ASSIGN_OR_RETURN(git_oid now, Head());
    return FailedPrecondition(StaleHeadMessage(expected_head, now));
  }
  EC_GIT_RETURN_IF_ERROR(rc, "moving " + std::string(kBranchRef));
  return new_head;
}

Result<std::optional<std::string>> Repo::ReadFile(std::string_view path) const {
  EC_ASSIGN_OR_RETURN(git_oid head, Head());
  EC_ASSIGN_OR_RETURN(CommitTree at, LookupCommitTree(repo_.get(), head));
  git_tree_entry* entry_raw = nullptr;
  std::string p(path);
  int rc = git_tree_entry_bypath(&entry_raw, at.tree.get(), p.c_str());
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();
  EC_GIT_RETURN_IF_ERROR(rc, "looking up " + p);
  git_blob* blob_raw = nullptr;
  rc = git_blob_lookup(&blob_raw, repo_.get(), git_tree_entry_id(entry_raw));
  git_tree_entry_free(entry_raw);
  if (rc == GIT_ENOTFOUND) return std::optional<std::string>();  // a directory
  EC_GIT_RETURN_IF_ERROR(rc, "reading " + p);
  std::string content(static_cast<const char*>(git_blob_rawcontent(blob_raw)),
                      static_cast<size_t>(git_blob_rawsize(blob_raw)));
  git_blob_free(blob_raw);
  return std::optional<std::string>(std::move(content));
}

Result<git_oid> Repo::CommitFiles(const git_oid& expected_head,
                                  const std::map<std::string, std::string>& files,
                                  std::string_view message, std::string_view who) {
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(path_ / "ecconfigd.lock", kPushLockTimeout));
  EC_ASSIGN_OR_RETURN(git_oid current, Head());
  if (!git_oid_equal(&current, &expected_head)) {
    return FailedPrecondition(StaleHeadMessage(expected_head, current));
  }
  EC_ASSIGN_OR_RETURN(CommitTree parent, LookupCommitTree(repo_.get(), current));
  std::vector<git_tree_update> updates;
  for (const auto& [path, content] : files) {
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_UPSERT;
    EC_GIT_RETURN_IF_ERROR(
        git_blob_create_from_buffer(&u.id, repo_.get(), content.data(), content.size()),
        "writing " + path);
    u.filemode = GIT_FILEMODE_BLOB;
    u.path = path.c_str();
    updates.push_back(u);
  }
  git_oid tree_id;
  EC_GIT_RETURN_IF_ERROR(
      git_tree_create_updated(&tree_id, repo_.get(), parent.tree.get(), updates.size(),
                              updates.data()),
      "writing the new tree");
  git_tree* tree_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&tree_raw, repo_.get(), &tree_id), "reading a tree");
  TreePtr tree(tree_raw);
  std::string email = std::string(who) + "@localhost";
  git_signature* sig_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_signature_now(&sig_raw, std::string(who).c_str(), email.c_str()),
                         "signature");
  SignaturePtr sig(sig_raw);
  std::string msg(message);
  msg += "\n";
  const git_commit* parents[] = {parent.commit.get()};
  git_oid commit_id;
  EC_GIT_RETURN_IF_ERROR(git_commit_create(&commit_id, repo_.get(), nullptr, sig.get(), sig.get(),
                                           nullptr, msg.c_str(), tree.get(), 1, parents),
                         "writing the commit");
  return AdvanceBranch(expected_head, current, commit_id, "commit by " + std::string(who));
}

}  // namespace ec::ecconfigd
