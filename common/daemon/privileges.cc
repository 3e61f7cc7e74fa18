#include "common/daemon/privileges.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>

#include "common/log/logger.h"

namespace ec::daemon {
namespace {

std::string Where(const PrivilegeSpec& spec) {
  return spec.where.empty() ? std::string() : " (" + spec.where + ")";
}

struct CapFree {
  void operator()(cap_t c) const { cap_free(c); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// The wanted state: `caps` permitted and effective, nothing inheritable.
Result<CapHandle> WantedCaps(const CapabilityList& caps) {
  CapHandle wanted(cap_init());
  if (!wanted) return ErrnoStatus("cap_init", errno);
  if (!caps.empty()) {
    std::vector<cap_value_t> values(caps.begin(), caps.end());
    for (cap_flag_t flag : {CAP_PERMITTED, CAP_EFFECTIVE}) {
      if (cap_set_flag(wanted.get(), flag, static_cast<int>(values.size()), values.data(),
                       CAP_SET) != 0) {
        return ErrnoStatus("cap_set_flag", errno);
      }
    }
  }
  return wanted;
}

// Removes from the bounding set every capability not listed (needs CAP_SETPCAP: as root), so
// no exec can bring one back; and clears the ambient set.
Status LimitBoundingSet(const CapabilityList& keep) {
  const int last = static_cast<int>(cap_max_bits()) - 1;
  for (int cap = 0; cap <= last; ++cap) {
    if (std::binary_search(keep.begin(), keep.end(), cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;  // already gone
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return ErrnoStatus("dropping capability " + std::to_string(cap) + " from the bounding set",
                         errno);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return ErrnoStatus("clearing the ambient capabilities", errno);
  }
  return Status::Ok();
}

// Listed capabilities this process does not hold (whoever started it narrowed its bounding
// set, as containers do): cap_set_proc could not raise them.
CapabilityList NotHeld(const CapabilityList& caps) {
  CapabilityList missing;
  CapHandle now(cap_get_proc());
  for (int cap : caps) {
    cap_flag_value_t held = CAP_CLEAR;
    if (now) cap_get_flag(now.get(), static_cast<cap_value_t>(cap), CAP_PERMITTED, &held);
    if (held != CAP_SET) missing.push_back(cap);
  }
  return missing;
}

Status Verify(const Account& account, const CapabilityList& caps, cap_t wanted) {
  if (account.uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
    return Internal("could regain root after switching to " + account.user);
  }
  if (getuid() != account.uid || geteuid() != account.uid || getgid() != account.gid ||
      getegid() != account.gid) {
    return Internal("uid/gid not as expected after switching to " + account.user);
  }
  CapHandle now(cap_get_proc());
  if (!now) return ErrnoStatus("cap_get_proc", errno);
  if (cap_compare(now.get(), wanted) != 0) {
    char* text = cap_to_text(now.get(), nullptr);
    std::string have = text ? text : "?";
    cap_free(text);
    return Internal("capabilities after the drop are \"" + have + "\", wanted " +
                    CapabilityNames(caps));
  }
  return Status::Ok();
}

}  // namespace

int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  int n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

Result<Account> LookUpAccount(const PrivilegeSpec& spec) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc;
  while ((rc = getpwnam_r(spec.user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0) return ErrnoStatus("looking up user " + spec.user, rc);
  if (found == nullptr) {
    return NotFound("no such user: " + spec.user + Where(spec) +
                    "; create it (scripts/install-user.sh) or set Security { user = \"\" } to "
                    "keep running as root");
  }
  Account account{
      .user = spec.user, .uid = pw.pw_uid, .gid = pw.pw_gid, .groups = {}, .home = pw.pw_dir};
  if (!spec.group.empty()) {
    group gr{};
    group* gfound = nullptr;
    std::vector<char> gbuf(16384);
    while ((rc = getgrnam_r(spec.group.c_str(), &gr, gbuf.data(), gbuf.size(), &gfound)) ==
           ERANGE) {
      gbuf.resize(gbuf.size() * 2);
    }
    if (rc != 0) return ErrnoStatus("looking up group " + spec.group, rc);
    if (gfound == nullptr) return NotFound("no such group: " + spec.group + Where(spec));
    account.gid = gr.gr_gid;
  }
  // The user's own groups (from its passwd primary gid), then the chosen primary group.
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  for (int tries = 0; tries < 8; ++tries) {
    int want = n;
    if (getgrouplist(spec.user.c_str(), pw.pw_gid, groups.data(), &want) >= 0) {
      groups.resize(static_cast<size_t>(want));
      break;
    }
    n = std::max(want, n * 2);
    groups.assign(static_cast<size_t>(n), 0);
  }
  groups.push_back(account.gid);
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  account.groups = std::move(groups);
  return account;
}

Status DropPrivileges(const PrivilegeSpec& spec) {
  if (spec.user.empty()) {
    if (geteuid() == 0) {
      EC_LOG(kWarn, "no user configured; running as root").Field("where", spec.where);
    } else {
      EC_LOG(kInfo, "no user configured; keeping current identity").Field("uid", geteuid());
    }
    return Status::Ok();
  }
  if (geteuid() != 0) {
    // Listed capabilities cannot be granted by an unprivileged process: say which are missing.
    EC_LOG(kInfo, "not running as root; not switching user")
        .Field("user", spec.user)
        .Field("uid", geteuid())
        .Field("capabilities_unavailable", CapabilityNames(spec.capabilities));
    return Status::Ok();
  }
  if (int threads = ThreadCount(); threads > 1) {
    return FailedPrecondition("cannot drop privileges with " + std::to_string(threads) +
                              " threads running: their capabilities would stay");
  }
  EC_ASSIGN_OR_RETURN(Account account, LookUpAccount(spec));
  // A listed capability we were started without is logged and left out, not fatal: the
  // code that needs it (the DuraVIP keeper, a port-25 bind) reports its own failure.
  CapabilityList keep = spec.capabilities;
  if (CapabilityList missing = NotHeld(keep); !missing.empty()) {
    EC_LOG(kWarn, "listed capabilities not available to this process; dropping them")
        .Field("capabilities", CapabilityNames(missing))
        .Field("where", spec.where);
    std::erase_if(keep, [&](int c) { return std::count(missing.begin(), missing.end(), c); });
  }
  EC_ASSIGN_OR_RETURN(CapHandle wanted, WantedCaps(keep));

  EC_RETURN_IF_ERROR(LimitBoundingSet(keep));
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoStatus("PR_SET_KEEPCAPS", errno);
  if (setgroups(account.groups.size(), account.groups.data()) != 0) {
    return ErrnoStatus("setgroups for " + spec.user, errno);
  }
  if (setresgid(account.gid, account.gid, account.gid) != 0) {
    return ErrnoStatus("setgid " + std::to_string(account.gid), errno);
  }
  if (setresuid(account.uid, account.uid, account.uid) != 0) {
    return ErrnoStatus("setuid " + std::to_string(account.uid), errno);
  }
  // Permitted survived the uid change (KEEPCAPS); now narrow it and raise effective.
  if (cap_set_proc(wanted.get()) != 0) return ErrnoStatus("cap_set_proc", errno);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return ErrnoStatus("clearing KEEPCAPS", errno);
  EC_RETURN_IF_ERROR(Verify(account, keep, wanted.get()));
  // Still the only thread: setenv is safe here.
  setenv("HOME", account.home.c_str(), 1);
  setenv("USER", account.user.c_str(), 1);
  setenv("LOGNAME", account.user.c_str(), 1);
  EC_LOG(kInfo, "switched user")
      .Field("user", spec.user)
      .Field("uid", account.uid)
      .Field("gid", account.gid)
      .Field("capabilities", CapabilityNames(keep));
  return Status::Ok();
}

Status DropPrivileges(std::string_view user) {
  return DropPrivileges(
      PrivilegeSpec{.user = std::string(user), .group = {}, .capabilities = {}, .where = {}});
}

}  // namespace ec::daemon
