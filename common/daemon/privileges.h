// Privilege drop: a daemon started as root binds its low ports, forks what must stay
// privileged, then becomes an unprivileged user for the rest of its life, keeping only the
// capabilities Security { capabilities } lists. Called once from the main thread while it is
// the process's only thread: uids are per-thread at the syscall level (glibc broadcasts them)
// but capability sets are per-thread only, so the drop refuses to run beside other threads.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/capabilities.h"

namespace ec::daemon {

// Who to become. `where` names the configuration that asked ("ecmta.conf:12") for messages.
struct PrivilegeSpec {
  std::string user;   // empty: keep the current identity
  std::string group;  // empty: the user's primary group
  CapabilityList capabilities;
  std::string where;
};

// A looked-up account: the uid, the primary gid (`group` if one was given) and the
// supplementary groups (the user's, plus the primary gid).
struct Account {
  std::string user;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home;  // becomes $HOME: libgit2 and children look there, not in /root
};

// kNotFound for an unknown user or group, naming `where`.
Result<Account> LookUpAccount(const PrivilegeSpec& spec);

// As root with a user: drops every capability not listed from the bounding set, clears the
// ambient set, switches groups, gid and uid keeping the listed capabilities (PR_SET_KEEPCAPS),
// makes them exactly the permitted and effective set (nothing inheritable), then verifies
// that root cannot be regained; HOME, USER and LOGNAME then name the user. Not root, or no user:
// changes nothing and logs why (listed capabilities are then not available). A failed step is an
// error: the daemon must not go on half-dropped. A listed capability this process was started
// without is left out with a warning. Other threads running: kFailedPrecondition, nothing changed.
Status DropPrivileges(const PrivilegeSpec& spec);

// DropPrivileges({.user = user}): no capabilities kept.
Status DropPrivileges(std::string_view user);

// Threads of this process (/proc/self/task); 0 when /proc cannot be read.
int ThreadCount();

}  // namespace ec::daemon
