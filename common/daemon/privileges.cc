#include "common/daemon/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/log/logger.h"

namespace ec::daemon {

Status DropPrivileges(std::string_view user_view) {
  const std::string user(user_view);
  if (user.empty()) {
    EC_LOG(kInfo, "no user configured; keeping current identity").Field("uid", getuid());
    return Status::Ok();
  }
  if (geteuid() != 0) {
    EC_LOG(kInfo, "not running as root; not switching user")
        .Field("user", user)
        .Field("uid", geteuid());
    return Status::Ok();
  }
  long size_hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size_hint > 0 ? static_cast<size_t>(size_hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc;
  while ((rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0) return ErrnoStatus("looking up user " + user, rc);
  if (found == nullptr) return NotFound("no such user: " + user);

  if (initgroups(user.c_str(), pw.pw_gid) != 0) return ErrnoStatus("initgroups " + user, errno);
  if (setgid(pw.pw_gid) != 0) return ErrnoStatus("setgid " + std::to_string(pw.pw_gid), errno);
  if (setuid(pw.pw_uid) != 0) return ErrnoStatus("setuid " + std::to_string(pw.pw_uid), errno);
  if (pw.pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    return Internal("could regain root after switching to " + user + "; refusing to continue");
  }
  EC_LOG(kInfo, "switched user")
      .Field("user", user)
      .Field("uid", pw.pw_uid)
      .Field("gid", pw.pw_gid);
  return Status::Ok();
}

}  // namespace ec::daemon
