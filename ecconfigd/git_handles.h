// RAII owners for libgit2 handles, libgit2 error codes converted to ec::Status, and small object
// id helpers. Every git_* handle the config code touches lives in one of these owners.
// libgit2 objects are used by one thread at a time; errors are thread-local (git_error_last), so
// GitError must be called on the thread whose call failed, right after it failed.
#pragma once

#include <git2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::ecconfigd {

template <typename T, void (*FreeFn)(T*)>
struct GitDeleter {
  void operator()(T* p) const {
    if (p != nullptr) FreeFn(p);
  }
};
template <typename T, void (*FreeFn)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, FreeFn>>;

using RepositoryPtr = GitPtr<git_repository, git_repository_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeBuilderPtr = GitPtr<git_treebuilder, git_treebuilder_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using ReferencePtr = GitPtr<git_reference, git_reference_free>;
using PackBuilderPtr = GitPtr<git_packbuilder, git_packbuilder_free>;
using IndexerPtr = GitPtr<git_indexer, git_indexer_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;
using SignaturePtr = GitPtr<git_signature, git_signature_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using DiffPtr = GitPtr<git_diff, git_diff_free>;
using StatusListPtr = GitPtr<git_status_list, git_status_list_free>;
using ConflictIteratorPtr = GitPtr<git_index_conflict_iterator, git_index_conflict_iterator_free>;

// A git_buf that is disposed of when it goes out of scope.
class GitBuf {
 public:
  GitBuf() = default;
  ~GitBuf() { git_buf_dispose(&buf_); }
  GitBuf(const GitBuf&) = delete;
  GitBuf& operator=(const GitBuf&) = delete;
  git_buf* get() { return &buf_; }
  std::string_view view() const { return {buf_.ptr == nullptr ? "" : buf_.ptr, buf_.size}; }

 private:
  git_buf buf_ = GIT_BUF_INIT;
};

// Initialises libgit2 once per process (never shut down: handles may outlive any scope).
void EnsureGitInit();

// The Status for a failed libgit2 call: "<what>: <git_error_last text>", with a code derived from
// the libgit2 error code (ENOTFOUND -> NotFound, ELOCKED -> Unavailable, ...).
Status GitError(int rc, std::string_view what);

std::string OidToHex(const git_oid& oid);
std::string ShortOid(const git_oid& oid);  // first 12 hex digits
// Full 40-digit hex only.
Result<git_oid> ParseOid(std::string_view hex);

}  // namespace ec::ecconfigd

// Returns GitError(rc, what) from the enclosing function if the libgit2 call failed.
#define EC_GIT_RETURN_IF_ERROR(call, what)                                    \
  do {                                                                        \
    int ec_git_rc_ = (call);                                                  \
    if (ec_git_rc_ < 0) return ::ec::ecconfigd::GitError(ec_git_rc_, (what)); \
  } while (0)
