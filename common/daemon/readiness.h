// Readiness reports to the service manager through libsystemd's sd_notify: READY=1 once a
// daemon's listeners accept connections (so `systemctl start` returns only then), RELOADING=1
// around a configuration reload, STOPPING=1 when shutdown begins. Without NOTIFY_SOCKET (not
// started by systemd, or a unit whose Type= is not notify) every call does nothing. Any thread:
// each report is one datagram, and the environment is read, never changed.
#pragma once

#include <string_view>

#include "common/base/status.h"

namespace ec::daemon {

// Sends `state` ("READY=1", "STATUS=...", newline-separated assignments). Ok when it was sent
// or there is no NOTIFY_SOCKET; else why the datagram could not be sent.
Status NotifyServiceManager(std::string_view state);

// The daemon listens and serves: systemd's start job completes. Failures are logged.
void NotifyReady();
// Shutdown has begun (systemd then does not mistake the exit for a crash while stopping).
void NotifyStopping();

// Brackets a configuration reload: RELOADING=1 when made, READY=1 when it goes out of scope,
// whether the reload worked or not (the daemon keeps serving on its old configuration).
class ReloadNotice {
 public:
  ReloadNotice();
  ~ReloadNotice();
  ReloadNotice(const ReloadNotice&) = delete;
  ReloadNotice& operator=(const ReloadNotice&) = delete;
};

}  // namespace ec::daemon
