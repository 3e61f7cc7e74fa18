// PasswordFile: the credentials SMTP AUTH and TCP consoles are checked against, from the file
// an AuthLoginParameters / AuthPlainParameters `uri = "file:///path"` names. One `user:secret`
// per line; `#` comments and blank lines are ignored. The secret is either a crypt(3) hash
// ($6$..., $5$..., $y$...: what `mkpasswd` or `openssl passwd -6` print) or, as in Momentum's
// file:// backend for SMTP AUTH, the cleartext password (refused with hashed_only). Loaded once per
// config snapshot; immutable, so any thread may check against it. An unknown user costs the same
// hash as a wrong password (no user enumeration by timing), and a password holding a NUL is refused
// rather than truncated.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/base/status.h"

namespace ec::auth {

struct PasswordFileOptions {
  bool hashed_only = false;  // a cleartext secret is an error (the console's user file)
};

class PasswordFile {
 public:
  using ParseOptions = PasswordFileOptions;
  // Fails with file:line for a malformed line (no ':' or an empty user).
  static Result<std::shared_ptr<const PasswordFile>> Load(const std::string& path,
                                                          ParseOptions options = {});
  static Result<std::shared_ptr<const PasswordFile>> Parse(std::string_view text,
                                                           const std::string& name,
                                                           ParseOptions options = {});
  // "file:///etc/x" or a plain path -> the path; anything else is an error.
  static Result<std::string> PathFromUri(std::string_view uri);

  // True only for a known user whose password matches. Compares in constant time; an unknown
  // user is hashed against dummy_hash_. A NUL in user or password is always false.
  bool Check(std::string_view user, std::string_view password) const;
  size_t size() const { return secrets_.size(); }

 private:
  std::unordered_map<std::string, std::string> secrets_;
  // The file's first crypt(3) hash: unknown users are hashed against it (same algorithm, same
  // rounds) and then refused. Empty when the file has only cleartext secrets.
  std::string dummy_hash_;
};

}  // namespace ec::auth
