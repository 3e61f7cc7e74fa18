// Who may do what on ecconfigd: nodes fetch and wait with the cluster secret (a random token made
// on the manager's first start and copied to each node at bootstrap); pushes need an admin user
// whose password matches a salted PBKDF2-HMAC-SHA256 hash in the password file, one line per
// user: "<user>:pbkdf2-sha256:<iterations>:<salt hex>:<hash hex>". New hashes use
// kPbkdf2Iterations (OWASP's guidance for SHA-256); the count is stored per line, so hashes made
// with fewer iterations by older versions still verify (`ecconfigd passwd` again upgrades one).
// `ecconfigd passwd USER` edits that file (atomically, synced, mode 0600). Verify() costs one
// PBKDF2 (~0.3 s): the server calls it on a worker thread (password_checker.h). Value types;
// safe to share read-only across threads.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::ecconfigd {

inline constexpr int kPbkdf2Iterations = 600'000;
inline constexpr int kMaxPbkdf2Iterations = 10'000'000;  // a larger stored count is refused

class PasswordFile {
 public:
  // A missing file is an empty one (no admin can push until `ecconfigd passwd` ran).
  static Result<PasswordFile> Load(const std::filesystem::path& path);
  bool Verify(std::string_view user, std::string_view password) const;
  bool empty() const { return entries_.empty(); }

  // Adds or replaces `user`'s password in the file at `path` (iterations: tests of old hashes).
  static Status SetPassword(const std::filesystem::path& path, std::string_view user,
                            std::string_view password, int iterations = kPbkdf2Iterations);

 private:
  std::map<std::string, std::string, std::less<>> entries_;  // user -> rest of line
};

// Reads the cluster secret at `path`, creating a fresh random one (mode 0600, synced) if missing.
Result<std::string> LoadOrCreateSecret(const std::filesystem::path& path);
// Reads a secret file (first line, trimmed).
Result<std::string> ReadSecret(const std::filesystem::path& path);

}  // namespace ec::ecconfigd
