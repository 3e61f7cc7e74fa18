// Privilege drop: a daemon started as root binds its low ports, then becomes an unprivileged
// user for the rest of its life. Called once from main(), before any thread is started (uid
// changes are per-thread at the syscall level; glibc broadcasts them, but not mid-startup).
#pragma once

#include <string_view>

#include "common/base/status.h"

namespace ec::daemon {

// As root with a non-empty `user`: setgroups (the user's supplementary groups), setgid, setuid
// to that user, and verifies root cannot be regained. Not root, or `user` empty: changes
// nothing and logs why. An unknown user is kNotFound; a failed call is an error (the daemon must
// not go on as root by accident).
Status DropPrivileges(std::string_view user);

}  // namespace ec::daemon
