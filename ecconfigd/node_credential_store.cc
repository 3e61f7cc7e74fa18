#include "ecconfigd/node_credential_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/base/atomic_file.h"
#include "common/daemon/ownership.h"
#include "common/log/logger.h"
#include "ecconfigd/enrol_tokens.h"
#include "ecconfigd/file_lock.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

constexpr auto kCredentialLockTimeout = std::chrono::seconds(30);

}  // namespace

Status NodeCredentialStore::Write(const NodeCredentialFile& updated) const {
  EC_RETURN_IF_ERROR(WriteFileAtomically(file().string(), RenderNodeCredentials(updated), 0600));
  // Often run as root (`ecconfigd revoke`) while the daemon runs as Security's user: a file
  // root owned would fail every node's fetch (FileLock gives the lock file away too).
  return daemon::GiveToDirectoryOwner(file());
}

Result<NodeCredentialFile> NodeCredentialStore::Read() const {
  std::ifstream in(file());
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file(), ec)) return NodeCredentialFile();
    return Status(StatusCode::kIoError, "cannot read " + file().string());
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseNodeCredentials(text.str());
}

Result<std::string> NodeCredentialStore::Issue(std::string_view node, int64_t now) {
  EC_RETURN_IF_ERROR(msgc::CheckNodeName(node));
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(lock_file(), kCredentialLockTimeout));
  EC_ASSIGN_OR_RETURN(NodeCredentialFile current, Read());
  EC_ASSIGN_OR_RETURN(std::string secret, NewToken(kNodeSecretBytes));
  EC_ASSIGN_OR_RETURN(std::string salt, NewToken(kNodeSaltBytes));
  auto updated =
      WithNodeCredential(std::move(current), MakeNodeCredential(node, secret, salt, now));
  EC_RETURN_IF_ERROR(Write(updated));
  return FormatNodeCredential(node, secret);
}

Status NodeCredentialStore::Revoke(std::string_view node) {
  EC_RETURN_IF_ERROR(msgc::CheckNodeName(node));
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(lock_file(), kCredentialLockTimeout));
  EC_ASSIGN_OR_RETURN(NodeCredentialFile current, Read());
  bool removed = false;
  auto updated = WithoutNodeCredential(std::move(current), node, &removed);
  if (!removed) return NotFound("node " + std::string(node) + " has no fetch credential");
  return Write(updated);
}

Result<NodeCredentialStore::Stamp> NodeCredentialStore::StatFile() const {
  struct stat st {};
  if (::stat(file().c_str(), &st) != 0) {
    if (errno == ENOENT) return Stamp{};
    return Status(StatusCode::kIoError, "cannot stat " + file().string() + ": " + strerror(errno));
  }
  return Stamp{true, st.st_dev, st.st_ino, st.st_size,
               static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Result<bool> NodeCredentialStore::Verify(std::string_view node, std::string_view secret) {
  EC_ASSIGN_OR_RETURN(Stamp now, StatFile());
  if (!loaded_ || !(now == stamp_)) {
    EC_ASSIGN_OR_RETURN(cached_, Read());
    stamp_ = now;
    loaded_ = true;
    for (const std::string& error : cached_.errors) {
      EC_LOG(kError, "damaged node credential line (that node cannot fetch)")
          .Field("file", file().string())
          .Field("error", error);
    }
  }
  return VerifyNodeCredential(cached_, node, secret);
}

}  // namespace ec::ecconfigd
