#include "eccfg/layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <regex>
#include <system_error>

#include "ecconfigd/repo.h"

namespace ec::eccfg {
namespace fs = std::filesystem;
using ecconfigd::GitError;
using ecconfigd::RepositoryPtr;

namespace {

std::string RandomToken(size_t n) {
  static constexpr char kChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i) s += kChars[rd() % 36];
  return s;
}

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening " + dir.string(), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("syncing " + dir.string(), err);
}

// Lock files git leaves when killed between taking and committing a lock.
void RemoveGitLocks(const fs::path& git_dir) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(git_dir / "refs", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path().extension() == ".lock") fs::remove(it->path(), ec);
  }
  for (const char* name : {"packed-refs.lock", "index.lock", "HEAD.lock", "config.lock"}) {
    fs::remove(git_dir / name, ec);
  }
  for (auto it = fs::directory_iterator(git_dir / "objects/pack", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind("pack_git2_", 0) == 0) fs::remove(it->path(), ec);
  }
}

}  // namespace

Layout::Layout(fs::path wc) {
  std::error_code ec;
  fs::path abs = fs::absolute(wc, ec);
  if (ec) abs = wc;
  abs = abs.lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  wc_ = abs;
  etc_ = abs.parent_path();
  name_ = abs.filename().string();
}

fs::path Layout::store() const { return etc_ / ("." + name_ + ".store.git"); }
fs::path Layout::lock_file() const { return etc_ / ("." + name_ + ".lock"); }

Result<std::optional<fs::path>> Layout::CurrentCheckout() const {
  std::error_code ec;
  auto st = fs::symlink_status(wc_, ec);
  if (ec || st.type() == fs::file_type::not_found) return std::optional<fs::path>();
  if (st.type() != fs::file_type::symlink) {
    return FailedPrecondition(wc_.string() +
                              " is not a working copy made by eccfg (not a symlink); move it "
                              "away and run eccfg bootstrap");
  }
  fs::path target = fs::read_symlink(wc_, ec);
  if (ec) return Status(StatusCode::kIoError, "reading link " + wc_.string() + ": " + ec.message());
  fs::path dir = target.is_absolute() ? target : etc_ / target;
  if (!fs::is_directory(dir / ".git", ec)) {
    return FailedPrecondition(wc_.string() + " points at " + dir.string() +
                              ", which is not a git work tree");
  }
  return std::optional<fs::path>(dir.lexically_normal());
}

Result<fs::path> Layout::RequireCheckout() const {
  EC_ASSIGN_OR_RETURN(std::optional<fs::path> dir, CurrentCheckout());
  if (!dir)
    return FailedPrecondition("no working copy at " + wc_.string() + "; run eccfg bootstrap");
  return *dir;
}

void Layout::RemoveDebris(const std::optional<fs::path>& keep) const {
  const std::regex checkout_re(
      std::regex_replace(name_, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
      R"(\.[0-9a-f]{12}\.[0-9a-z]{8})");
  const std::string swap_prefix = "." + name_ + ".swap.";
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (auto it = fs::directory_iterator(etc_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string file = it->path().filename().string();
    if (file.rfind(swap_prefix, 0) == 0) {
      doomed.push_back(it->path());
    } else if (std::regex_match(file, checkout_re) &&
               (!keep || it->path().lexically_normal() != *keep)) {
      doomed.push_back(it->path());
    }
  }
  for (const fs::path& p : doomed) fs::remove_all(p, ec);
}

Result<RepositoryPtr> Layout::OpenStore() const {
  ecconfigd::EnsureGitInit();
  std::error_code ec;
  fs::path path = store();
  if (!fs::exists(path, ec)) {
    fs::path tmp = etc_ / ("." + name_ + ".store.tmp." + RandomToken(8));
    git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
    opts.initial_head = "main";
    git_repository* raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_repository_init_ext(&raw, tmp.c_str(), &opts),
                           "creating object store " + tmp.string());
    git_repository_free(raw);
    fs::rename(tmp, path, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      if (!fs::exists(path)) return Status(StatusCode::kIoError, "creating " + path.string());
    }
  }
  // Killed store creations leave .conf.store.tmp.* behind.
  for (auto it = fs::directory_iterator(etc_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().filename().string().rfind("." + name_ + ".store.tmp.", 0) == 0) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
  RemoveGitLocks(path);
  git_repository* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_open_bare(&raw, path.c_str()),
                         "opening object store " + path.string());
  return RepositoryPtr(raw);
}

fs::path Layout::NewCheckoutDir(const git_oid& rev) const {
  return etc_ / (name_ + "." + ecconfigd::ShortOid(rev) + "." + RandomToken(8));
}

Status Layout::CreateCheckout(const fs::path& dir, const git_oid& rev,
                              const std::optional<git_oid>& files_tree,
                              const std::optional<fs::path>& extra_objects) const {
  git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  init.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
  init.initial_head = "main";
  {
    git_repository* raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_repository_init_ext(&raw, dir.c_str(), &init),
                           "creating checkout " + dir.string());
    git_repository_free(raw);
  }
  // Written before the repository is reopened, so its object database sees the store.
  {
    std::ofstream alt(dir / ".git/objects/info/alternates");
    alt << (store() / "objects").string() << "\n";
    if (!alt) return Status(StatusCode::kIoError, "writing alternates in " + dir.string());
  }
  git_repository* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_open(&raw, dir.c_str()), "opening " + dir.string());
  RepositoryPtr repo(raw);
  git_reference* ref = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_reference_create(&ref, repo.get(), ecconfigd::kBranchRef, &rev, 1, "eccfg pull"),
      "setting the checkout's revision");
  git_reference_free(ref);
  git_object* commit_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_object_lookup(&commit_raw, repo.get(), &rev, GIT_OBJECT_COMMIT),
                         "reading revision " + ecconfigd::OidToHex(rev));
  ecconfigd::ObjectPtr commit(commit_raw);
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_FORCE;
  EC_GIT_RETURN_IF_ERROR(git_checkout_tree(repo.get(), commit.get(), &opts),
                         "checking out " + ecconfigd::OidToHex(rev));
  if (files_tree) {
    if (extra_objects) {
      git_odb* odb_raw = nullptr;
      EC_GIT_RETURN_IF_ERROR(git_repository_odb(&odb_raw, repo.get()), "opening objects");
      ecconfigd::OdbPtr odb(odb_raw);
      EC_GIT_RETURN_IF_ERROR(git_odb_add_disk_alternate(odb.get(), extra_objects->c_str()),
                             "reading local edits");
    }
    git_object* tree_raw = nullptr;
    EC_GIT_RETURN_IF_ERROR(git_object_lookup(&tree_raw, repo.get(), &*files_tree, GIT_OBJECT_TREE),
                           "reading the merged tree");
    ecconfigd::ObjectPtr tree(tree_raw);
    // Files become the merge result; the index stays at `rev`, so the local edits show as edits.
    git_checkout_options merged = GIT_CHECKOUT_OPTIONS_INIT;
    merged.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    EC_GIT_RETURN_IF_ERROR(git_checkout_tree(repo.get(), tree.get(), &merged),
                           "writing local edits into " + dir.string());
  }
  return Status::Ok();
}

Status Layout::SwapTo(const fs::path& dir) const {
  fs::path tmp = etc_ / ("." + name_ + ".swap." + RandomToken(8));
  std::error_code ec;
  fs::create_symlink(dir.filename(), tmp, ec);
  if (ec)
    return Status(StatusCode::kIoError, "creating link " + tmp.string() + ": " + ec.message());
  if (::rename(tmp.c_str(), wc_.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp, ec);
    return ErrnoStatus("switching " + wc_.string() + " to " + dir.string(), err);
  }
  return FsyncDir(etc_);
}

Result<RepositoryPtr> OpenCheckout(const fs::path& dir) {
  ecconfigd::EnsureGitInit();
  git_repository* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(
      git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr),
      "opening working copy " + dir.string());
  return RepositoryPtr(raw);
}

Result<git_oid> CheckoutRevision(git_repository* repo) {
  git_oid id;
  EC_GIT_RETURN_IF_ERROR(git_reference_name_to_id(&id, repo, ecconfigd::kBranchRef),
                         "reading the working copy's revision");
  return id;
}

std::set<std::string> ReadConflicts(const fs::path& checkout) {
  std::set<std::string> paths;
  std::ifstream in(checkout / ".git/ec-conflicts");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) paths.insert(line);
  }
  return paths;
}

Status WriteConflicts(const fs::path& checkout, const std::set<std::string>& paths) {
  fs::path file = checkout / ".git/ec-conflicts";
  std::error_code ec;
  if (paths.empty()) {
    fs::remove(file, ec);
    return Status::Ok();
  }
  fs::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const std::string& p : paths) out << p << "\n";
    if (!out) return Status(StatusCode::kIoError, "writing " + tmp.string());
  }
  fs::rename(tmp, file, ec);
  if (ec) return Status(StatusCode::kIoError, "writing " + file.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace ec::eccfg
