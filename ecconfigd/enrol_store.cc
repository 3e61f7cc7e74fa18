#include "ecconfigd/enrol_store.h"

#include <fstream>
#include <sstream>

#include "common/base/atomic_file.h"
#include "common/daemon/ownership.h"
#include "ecconfigd/file_lock.h"
#include "ecconfigd/protocol.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

constexpr auto kLockTimeout = std::chrono::seconds(30);

}  // namespace

// `ecconfigd enroll` runs as root while the daemon, as Security's user, must read the tokens
// to redeem one (FileLock gives the lock file away the same way).
Status EnrolStore::Save(const std::vector<EnrolEntry>& entries) const {
  EC_RETURN_IF_ERROR(WriteFileAtomically(file().string(), RenderEnrolTokens(entries), 0600));
  return daemon::GiveToDirectoryOwner(file());
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::vector<EnrolEntry>> EnrolStore::Load() const {
  std::ifstream in(file());
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(file(), ec)) return std::vector<EnrolEntry>();
    return Status(StatusCode::kIoError, "cannot read " + file().string());
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseEnrolTokens(text.str());
}

Result<std::string> EnrolStore::Issue(EnrolEntry entry, std::chrono::seconds ttl, int64_t now) {
  EC_RETURN_IF_ERROR(msgc::CheckNodeName(entry.node));
  // A bad field would make the whole file unreadable, and with it every pending enrolment.
  if (!ValidSubclusterName(entry.subcluster)) {
    return InvalidArgument("bad subcluster name '" + entry.subcluster + "'");
  }
  if (!entry.address.empty() && !ValidPeerAddress(entry.address)) {
    return InvalidArgument("bad bus address '" + entry.address + "'");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(lock_file(), kLockTimeout));
  EC_ASSIGN_OR_RETURN(auto entries, Load());
  EC_ASSIGN_OR_RETURN(std::string token, NewToken());
  entry.hash = HashToken(token);
  entry.expires = now + ttl.count();
  entry.spent = false;
  entries = WithEnrolment(std::move(entries), std::move(entry), now);
  EC_RETURN_IF_ERROR(Save(entries));
  return token;
}

Result<EnrolEntry> EnrolStore::Check(std::string_view node, std::string_view token,
                                     int64_t now) const {
  EC_ASSIGN_OR_RETURN(auto entries, Load());
  EC_ASSIGN_OR_RETURN(size_t i, FindEnrolment(entries, node, token, now));
  return entries[i];
}

Result<EnrolEntry> EnrolStore::Redeem(std::string_view node, std::string_view token, int64_t now,
                                      const std::function<Status(const EnrolEntry&)>& action) {
  EC_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(lock_file(), kLockTimeout));
  EC_ASSIGN_OR_RETURN(auto entries, Load());
  EC_ASSIGN_OR_RETURN(size_t i, FindEnrolment(entries, node, token, now));
  EC_RETURN_IF_ERROR(action(entries[i]));
  entries[i].spent = true;
  EC_RETURN_IF_ERROR(Save(entries));
  return entries[i];
}

}  // namespace ec::ecconfigd
