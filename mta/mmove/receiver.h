// Receiver: ecmta's side of #mmove that takes mail in (docs/mmove.md): the durable moved-in
// record under the spool, and the MoveService answering `mmove ...` on the node's
// ECCluster_Listener for bus members. Opened in two steps because of the durability argument:
// the record is opened (its open intents settled against the spool) BEFORE the scheduler
// recovers the spool, so nothing is delivered before its intent is settled; the service starts
// once the listener and the scheduler exist. Owned by MtaDaemon; loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "common/base/status.h"
#include "mta/logs/mta_logs.h"
#include "mta/logship/eccluster_listener.h"
#include "mta/mmove/move_service.h"
#include "mta/mmove/moved_in_log.h"
#include "mta/spool/spool.h"

namespace ec::mmove {

// Where the moved-in record lives: a directory of its own under the spool (the spool's
// recovery skips anything that is not one of its segments).
std::string MovedInPath(const std::string& spoolbase);

class Receiver {
 public:
  // Opens (creating) the moved-in record of `spool`. Call before the scheduler's Recover().
  static Result<std::unique_ptr<Receiver>> Open(spool::Spool& spool);
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Serves `mmove ...` on every server of `listener` for `members` (bus peers); a stored
  // message goes to `on_stored` (the scheduler). The listener must be destroyed first.
  void Start(logship::EcclusterListener& listener, mta::MtaLogs* logs,
             std::function<void(spool::QueueId, const spool::Envelope&)> on_stored,
             std::set<std::string> members);
  // Config reload: the bus members allowed to move mail here.
  void SetMembers(std::set<std::string> members);
  MoveService::Stats stats() const;

 private:
  Receiver(spool::Spool& spool, std::unique_ptr<MovedInLog> log)
      : spool_(spool), moved_in_(std::move(log)) {}

  spool::Spool& spool_;
  std::unique_ptr<MovedInLog> moved_in_;
  std::unique_ptr<MoveService> service_;  // after Start
};

}  // namespace ec::mmove
