#include "ecconfigd/pack.h"

#include <set>

#include "ecconfigd/git_handles.h"

namespace ec::ecconfigd {
namespace {

constexpr size_t kPackHeaderSize = 12;
constexpr size_t kPackTrailerSize = 20;
constexpr uint32_t kMaxPackObjects = 10'000'000;

Result<RevwalkPtr> WalkFrom(git_repository* repo, const git_oid& tip,
                            const std::vector<git_oid>& hides) {
  git_revwalk* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_revwalk_new(&raw, repo), "starting a revision walk");
  RevwalkPtr walk(raw);
  EC_GIT_RETURN_IF_ERROR(git_revwalk_push(walk.get(), &tip), "walking from " + OidToHex(tip));
  for (const git_oid& hide : hides) {
    // An unknown base only makes the walk longer.
    if (git_revwalk_hide(walk.get(), &hide) < 0) git_error_clear();
  }
  return walk;
}

struct OidLess {
  bool operator()(const git_oid& a, const git_oid& b) const { return git_oid_cmp(&a, &b) < 0; }
};
using OidSet = std::set<git_oid, OidLess>;

// Checks a tree and everything under it without letting libgit2 meet a missing object (its
// error paths for those leak in 1.5): existence first, then lookup.
Status CheckTree(git_repository* repo, git_odb* odb, const git_oid& tree_id,
                 const std::string& path, OidSet* seen) {
  if (seen->count(tree_id) != 0) return Status::Ok();
  if (!git_odb_exists(odb, &tree_id)) {
    return InvalidArgument("directory " + (path.empty() ? "/" : path) + " is missing");
  }
  git_tree* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_tree_lookup(&raw, repo, &tree_id), "reading directory " + path);
  TreePtr tree(raw);
  for (size_t i = 0, n = git_tree_entrycount(tree.get()); i < n; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree.get(), i);
    std::string name = path + git_tree_entry_name(entry);
    if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
      EC_RETURN_IF_ERROR(CheckTree(repo, odb, *git_tree_entry_id(entry), name + "/", seen));
    } else if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB &&
               !git_odb_exists(odb, git_tree_entry_id(entry))) {
      return InvalidArgument("file " + name + " is missing");
    }
  }
  seen->insert(tree_id);
  return Status::Ok();
}

}  // namespace

Result<std::string> BuildPack(git_repository* repo, const git_oid& want,
                              const std::vector<git_oid>& haves) {
  git_packbuilder* raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_packbuilder_new(&raw, repo), "creating a pack");
  PackBuilderPtr builder(raw);
  EC_ASSIGN_OR_RETURN(RevwalkPtr walk, WalkFrom(repo, want, haves));
  EC_GIT_RETURN_IF_ERROR(git_packbuilder_insert_walk(builder.get(), walk.get()),
                         "collecting objects for " + OidToHex(want));
  GitBuf buf;
  EC_GIT_RETURN_IF_ERROR(git_packbuilder_write_buf(buf.get(), builder.get()), "writing a pack");
  return std::string(buf.view());
}

Result<uint32_t> PackObjectCount(std::string_view pack) {
  if (pack.size() < kPackHeaderSize + kPackTrailerSize || pack.substr(0, 4) != "PACK") {
    return InvalidArgument("not a git pack (" + std::to_string(pack.size()) + " bytes)");
  }
  auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(pack[i])); };
  uint32_t version = byte(4) << 24 | byte(5) << 16 | byte(6) << 8 | byte(7);
  if (version != 2 && version != 3) return InvalidArgument("unsupported pack version");
  return byte(8) << 24 | byte(9) << 16 | byte(10) << 8 | byte(11);
}

Status IndexPack(git_repository* repo, std::string_view pack) {
  EC_ASSIGN_OR_RETURN(uint32_t count, PackObjectCount(pack));
  if (count == 0) return Status::Ok();
  // libgit2 sizes its tables from the header's count: a lying header must not reach it. Every
  // object takes at least a type byte and a zlib stream (> 2 bytes).
  size_t room = pack.size() - kPackHeaderSize - kPackTrailerSize;
  if (count > room / 3 || count > kMaxPackObjects) {
    return InvalidArgument("refused: the pack announces " + std::to_string(count) + " objects in " +
                           std::to_string(pack.size()) + " bytes");
  }
  git_odb* odb_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_odb(&odb_raw, repo), "opening the object store");
  OdbPtr odb(odb_raw);
  std::string pack_dir = std::string(git_repository_path(repo)) + "objects/pack";
  git_indexer_options opts = GIT_INDEXER_OPTIONS_INIT;
  opts.verify = 0;  // CheckConnected does this; libgit2 1.5 leaks in its own check
  git_indexer* idx_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_indexer_new(&idx_raw, pack_dir.c_str(), 0, odb.get(), &opts),
                         "preparing to index a pack");
  IndexerPtr indexer(idx_raw);
  git_indexer_progress stats{};
  int rc = git_indexer_append(indexer.get(), pack.data(), pack.size(), &stats);
  if (rc < 0) return GitError(rc, "corrupt pack").WithContext("refused");
  rc = git_indexer_commit(indexer.get(), &stats);
  if (rc < 0) {
    Status s = GitError(rc, "corrupt or truncated pack");
    return Status(StatusCode::kInvalidArgument, "refused: " + s.message());
  }
  // The new pack is not seen by odb handles opened before it: make this repository look again.
  if (git_odb_refresh(odb.get()) < 0) git_error_clear();
  return Status::Ok();
}

Status CheckConnected(git_repository* repo, const git_oid& tip, const std::vector<git_oid>& hides) {
  git_odb* odb_raw = nullptr;
  EC_GIT_RETURN_IF_ERROR(git_repository_odb(&odb_raw, repo), "opening the object store");
  OdbPtr odb(odb_raw);
  // Everything reachable from the hides is complete (it is what the repository already had).
  OidSet known;
  if (!hides.empty()) {
    EC_ASSIGN_OR_RETURN(RevwalkPtr walk, WalkFrom(repo, hides.front(), {}));
    for (size_t i = 1; i < hides.size(); ++i) {
      if (git_revwalk_push(walk.get(), &hides[i]) < 0) git_error_clear();
    }
    git_oid id;
    while (git_revwalk_next(&id, walk.get()) == 0) known.insert(id);
  }
  OidSet trees_seen;
  std::vector<git_oid> pending{tip};
  while (!pending.empty()) {
    git_oid id = pending.back();
    pending.pop_back();
    if (!known.insert(id).second) continue;
    if (!git_odb_exists(odb.get(), &id)) {
      return InvalidArgument("revision " + OidToHex(id) + " is missing from the pack");
    }
    git_commit* raw = nullptr;
    if (git_commit_lookup(&raw, repo, &id) < 0) {
      git_error_clear();
      return InvalidArgument(OidToHex(id) + " is not a readable commit");
    }
    CommitPtr commit(raw);
    EC_RETURN_IF_ERROR(
        CheckTree(repo, odb.get(), *git_commit_tree_id(commit.get()), "", &trees_seen)
            .WithContext("commit " + ShortOid(id)));
    for (unsigned i = 0, n = git_commit_parentcount(commit.get()); i < n; ++i) {
      pending.push_back(*git_commit_parent_id(commit.get(), i));
    }
  }
  return Status::Ok();
}

}  // namespace ec::ecconfigd
