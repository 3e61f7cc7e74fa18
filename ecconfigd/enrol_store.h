// EnrolStore: the enrolment token file in ecconfigd's state dir (enrol.tokens, mode 0600,
// written atomically) behind an flock (enrol.lock), shared by `ecconfigd enroll` and the daemon.
// Redeem() checks a token, runs the enrolment's commit and marks the token spent, all under the
// lock: of two enrolments racing with one token (threads or processes) exactly one commits; a
// failed commit leaves the token unspent. Blocking file I/O; any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "common/base/status.h"
#include "ecconfigd/enrol_tokens.h"

namespace ec::ecconfigd {

class EnrolStore {
 public:
  explicit EnrolStore(std::filesystem::path state_dir) : dir_(std::move(state_dir)) {}

  // Registers `entry` (hash and expiry are filled in) and returns the token, shown only once.
  Result<std::string> Issue(EnrolEntry entry, std::chrono::seconds ttl, int64_t now);
  // The entry `token` opens for `node`; changes nothing.
  Result<EnrolEntry> Check(std::string_view node, std::string_view token, int64_t now) const;
  // Check, then `action`, then the token is spent; `action`'s error is returned as is.
  Result<EnrolEntry> Redeem(std::string_view node, std::string_view token, int64_t now,
                            const std::function<Status(const EnrolEntry&)>& action);

  std::filesystem::path file() const { return dir_ / "enrol.tokens"; }
  std::filesystem::path lock_file() const { return dir_ / "enrol.lock"; }

 private:
  Result<std::vector<EnrolEntry>> Load() const;
  // Written atomically, then (run as root) given to the state dir's owner.
  Status Save(const std::vector<EnrolEntry>& entries) const;

  std::filesystem::path dir_;
};

int64_t UnixNow();

}  // namespace ec::ecconfigd
