#include "common/auth/password_file.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <fstream>
#include <sstream>

namespace ec::auth {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsCryptHash(std::string_view secret) {
  return secret.size() > 3 && secret[0] == '$' && secret.find('$', 1) != std::string_view::npos;
}

}  // namespace

Result<std::string> PasswordFile::PathFromUri(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) == kScheme) uri.remove_prefix(kScheme.size());
  if (uri.empty() || uri[0] != '/') {
    return InvalidArgument("AUTH uri \"" + std::string(uri) +
                           "\": expected file:///absolute/path or an absolute path");
  }
  return std::string(uri);
}

Result<std::shared_ptr<const PasswordFile>> PasswordFile::Load(const std::string& path,
                                                               ParseOptions options) {
  std::ifstream in(path);
  if (!in) return NotFound("password file " + path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path, options);
}

Result<std::shared_ptr<const PasswordFile>> PasswordFile::Parse(std::string_view text,
                                                                const std::string& name,
                                                                ParseOptions options) {
  auto file = std::make_shared<PasswordFile>();
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos || line[start] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgument(name + ":" + std::to_string(line_no) +
                             ": expected user:password or user:$hash");
    }
    std::string secret(line.substr(colon + 1));
    if (options.hashed_only && !IsCryptHash(secret)) {
      return InvalidArgument(name + ":" + std::to_string(line_no) +
                             ": expected user:$hash (crypt(3), e.g. from `openssl passwd -6`); "
                             "cleartext passwords are not accepted here");
    }
    if (file->dummy_hash_.empty() && IsCryptHash(secret)) file->dummy_hash_ = secret;
    file->secrets_[std::string(line.substr(0, colon))] = std::move(secret);
  }
  return std::shared_ptr<const PasswordFile>(std::move(file));
}

bool PasswordFile::Check(std::string_view user, std::string_view password) const {
  // crypt(3) takes a C string: a NUL would cut the password short, so refuse it outright.
  const bool has_nul =
      user.find('\0') != std::string_view::npos || password.find('\0') != std::string_view::npos;
  auto it = has_nul ? secrets_.end() : secrets_.find(std::string(user));
  const bool known = it != secrets_.end();
  const std::string& secret = known ? it->second : dummy_hash_;
  if (!IsCryptHash(secret)) return known && ConstantTimeEquals(secret, password);
  crypt_data data{};
  const char* hashed = crypt_r(std::string(password).c_str(), secret.c_str(), &data);
  return known && hashed != nullptr && ConstantTimeEquals(hashed, secret);
}

}  // namespace ec::auth
