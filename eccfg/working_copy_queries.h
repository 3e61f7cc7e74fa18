// Queries on a checkout's git repository shared by the WorkingCopy commands (pull, commit,
// status...). Internal to ec_cfgclient; the caller owns the repository and runs on one thread.
#pragma once

#include <git2.h>

#include <filesystem>
#include <vector>

#include "common/base/status.h"
#include "eccfg/working_copy.h"

namespace ec::eccfg {

// The tree id of a commit.
Result<git_oid> TreeOfCommit(git_repository* repo, const git_oid& commit_id);

// Local edits of the checkout at `checkout` (see FileStatus); files left conflicted by
// pull --manual show as C.
Result<std::vector<FileStatus>> ListStatus(git_repository* repo,
                                           const std::filesystem::path& checkout);

}  // namespace ec::eccfg
