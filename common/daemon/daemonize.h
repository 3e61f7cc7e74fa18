// Daemonize: the classic detach for daemons run without --foreground (the common case is
// --foreground under systemd or a test). Called from main() before any thread or EventBase
// exists.
#pragma once

#include "common/base/status.h"

namespace ec::daemon {

// fork, setsid, fork again (so the daemon can never reacquire a terminal), chdir("/"), umask
// 027, stdin/stdout/stderr to /dev/null. Returns in the grandchild only; the original process
// and the intermediate child _exit(0). An error means we are still the original process.
Status Daemonize();

}  // namespace ec::daemon
