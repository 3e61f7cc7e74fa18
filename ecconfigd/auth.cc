#include "ecconfigd/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/base/atomic_file.h"
#include "common/base/hex.h"
#include "common/daemon/ownership.h"
#include "ecconfigd/protocol.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;
namespace {

constexpr char kScheme[] = "pbkdf2-sha256";

std::string Derive(std::string_view password, std::string_view salt, int iterations) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof out, out);
  return HexLower(out, sizeof out);
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t i = s.find(sep);
    parts.push_back(s.substr(0, i));
    if (i == std::string_view::npos) return parts;
    s.remove_prefix(i + 1);
  }
}

// Secrets: mode 0600, the data and the directory entry synced before we say "done"; written
// by `ecconfigd passwd` as root, given to the directory's owner so a daemon running as
// Security's user still reads them.
Status WriteSecretFile(const fs::path& path, const std::string& content) {
  EC_RETURN_IF_ERROR(ec::WriteFileAtomically(path.string(), content, 0600));
  return daemon::GiveToDirectoryOwner(path);
}

}  // namespace

Result<PasswordFile> PasswordFile::Load(const fs::path& path) {
  PasswordFile file;
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return file;
    return Status(StatusCode::kIoError, "cannot read " + path.string());
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      return InvalidArgument(path.string() + ":" + std::to_string(number) + ": bad entry");
    }
    file.entries_[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return file;
}

bool PasswordFile::Verify(std::string_view user, std::string_view password) const {
  auto it = entries_.find(user);
  // Spend the same time on unknown users as on known ones.
  std::string rest = it == entries_.end()
                         ? std::string(kScheme) + ":" + std::to_string(kPbkdf2Iterations) + ":00:00"
                         : it->second;
  std::vector<std::string_view> parts = Split(rest, ':');
  if (parts.size() != 4 || parts[0] != kScheme) return false;
  int iterations = 0;
  auto [p, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || iterations <= 0 || iterations > kMaxPbkdf2Iterations) return false;
  std::string computed = Derive(password, parts[2], iterations);
  return SecretsEqual(computed, parts[3]) && it != entries_.end();
}

Status PasswordFile::SetPassword(const fs::path& path, std::string_view user,
                                 std::string_view password, int iterations) {
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations) {
    return InvalidArgument("bad PBKDF2 iteration count");
  }
  if (user.empty() || user.find(':') != std::string_view::npos ||
      user.find('\n') != std::string_view::npos) {
    return InvalidArgument("bad user name");
  }
  if (password.empty()) return InvalidArgument("empty password");
  EC_ASSIGN_OR_RETURN(PasswordFile file, Load(path));
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  unsigned char salt_bytes[16];
  if (RAND_bytes(salt_bytes, sizeof salt_bytes) != 1) return Internal("no random bytes");
  std::string salt = HexLower(salt_bytes, sizeof salt_bytes);
  file.entries_[std::string(user)] = std::string(kScheme) + ":" + std::to_string(iterations) +
                                     ":" + salt + ":" + Derive(password, salt, iterations);
  std::string content;
  for (const auto& [name, rest] : file.entries_) content += name + ":" + rest + "\n";
  return WriteSecretFile(path, content);
}

Result<std::string> ReadSecret(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return NotFound("cannot read the cluster secret " + path.string());
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) return InvalidArgument("empty cluster secret in " + path.string());
  return line;
}

Result<std::string> LoadOrCreateSecret(const fs::path& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return ReadSecret(path);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Internal("no random bytes");
  std::string secret = HexLower(bytes, sizeof bytes);
  EC_RETURN_IF_ERROR(WriteSecretFile(path, secret + "\n"));
  return secret;
}

}  // namespace ec::ecconfigd
