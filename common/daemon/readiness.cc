#include "common/daemon/readiness.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

#include "common/log/logger.h"

namespace ec::daemon {
namespace {

void NotifyOrLog(std::string_view state) {
  if (Status s = NotifyServiceManager(state); !s.ok()) {
    EC_LOG(kWarn, "service manager notification").Field("state", state).Field("error", s);
  }
}

}  // namespace

Status NotifyServiceManager(std::string_view state) {
  // sd_notify does this check too; doing it first keeps the common case (no systemd) free.
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return Status::Ok();
  const int rc = sd_notify(/*unset_environment=*/0, std::string(state).c_str());
  if (rc < 0) return ErrnoStatus("sd_notify to $NOTIFY_SOCKET", -rc);
  return Status::Ok();
}

void NotifyReady() { NotifyOrLog("READY=1"); }

void NotifyStopping() { NotifyOrLog("STOPPING=1"); }

ReloadNotice::ReloadNotice() { NotifyOrLog("RELOADING=1"); }

ReloadNotice::~ReloadNotice() { NotifyOrLog("READY=1"); }

}  // namespace ec::daemon
