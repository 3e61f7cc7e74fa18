#include <thread>

#include "eccfg/remote.h"
#include "ecconfigd/repo.h"

namespace ec::eccfg {

Result<FetchResult> LocalRemote::Fetch(const std::optional<git_oid>& have) {
  EC_ASSIGN_OR_RETURN(ecconfigd::Repo repo, ecconfigd::Repo::Open(repo_path_));
  EC_ASSIGN_OR_RETURN(git_oid head, repo.Head());
  FetchResult result{head, {}};
  EC_ASSIGN_OR_RETURN(result.pack, repo.PackSince(have));
  return result;
}

Result<git_oid> LocalRemote::Push(const git_oid& expected_head, const git_oid& new_head,
                                  std::string_view pack) {
  EC_ASSIGN_OR_RETURN(ecconfigd::Repo repo, ecconfigd::Repo::Open(repo_path_));
  return repo.Push(expected_head, new_head, pack, user_);
}

Result<git_oid> LocalRemote::Wait(const git_oid& have, std::chrono::milliseconds timeout) {
  // No daemon to notify us here: poll the branch with a short period until the deadline.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    EC_ASSIGN_OR_RETURN(ecconfigd::Repo repo, ecconfigd::Repo::Open(repo_path_));
    EC_ASSIGN_OR_RETURN(git_oid head, repo.Head());
    if (!git_oid_equal(&head, &have) || std::chrono::steady_clock::now() >= deadline) return head;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ec::eccfg
