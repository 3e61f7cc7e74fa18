// What a working copy needs from the manager's repository, whatever carries it: the objects it
// lacks as a pack, a fast-forward push, and a long poll for the next revision. LocalRemote
// opens the bare repository directly (a working copy on the manager itself, and tests); the
// HTTPS client to ecconfigd implements the same interface. One thread at a time per object.
#pragma once

#include <git2.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::eccfg {

struct FetchResult {
  git_oid head;      // the repository's current head
  std::string pack;  // the objects reachable from head and not from the client's base
};

class Remote {
 public:
  virtual ~Remote() = default;
  virtual Result<FetchResult> Fetch(const std::optional<git_oid>& have) = 0;
  // Fast-forward from `expected_head` to `new_head`; a stale base is FailedPrecondition.
  virtual Result<git_oid> Push(const git_oid& expected_head, const git_oid& new_head,
                               std::string_view pack) = 0;
  // Returns the head as soon as it differs from `have`, or the unchanged head after `timeout`.
  virtual Result<git_oid> Wait(const git_oid& have, std::chrono::milliseconds timeout) = 0;
};

class LocalRemote : public Remote {
 public:
  LocalRemote(std::filesystem::path repo_path, std::string user)
      : repo_path_(std::move(repo_path)), user_(std::move(user)) {}
  Result<FetchResult> Fetch(const std::optional<git_oid>& have) override;
  Result<git_oid> Push(const git_oid& expected_head, const git_oid& new_head,
                       std::string_view pack) override;
  Result<git_oid> Wait(const git_oid& have, std::chrono::milliseconds timeout) override;

 private:
  std::filesystem::path repo_path_;
  std::string user_;
};

}  // namespace ec::eccfg
