// JournalService: the node side of log aggregation. On the ECCluster listener (port 4802,
// eccluster/channel_server.h) it answers the manager's
//
//   journal read <log> <subscriber> <max records> [<wait ms>]   -> a batch (eccluster/batch.h)
//   journal ack <log> <subscriber> <segment> <offset>           -> the cursor moved, durably
//   cluster show logs                                            -> each journal and cursor
//
// A read with nothing new waits up to <wait ms> for a line (checked every 50 ms), so the
// manager sees a line within a tick of its writing without polling hard. Reads never move a
// cursor: the manager acknowledges only what it has made durable, so nothing is lost or
// doubled whichever side restarts. Every command is answered only to a request whose principal
// is "msgc:<node>" with <node> among the managers (cluster { control_peers }); anyone else gets
// an error and a warning is logged. Loop thread only; the journals must outlive the service.
#pragma once

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/journal/journal.h"

namespace ec::logship {

class JournalService {
 public:
  // `journals`: log name ("mainlog") -> its journal; `mu`, if given, is held around every use
  // of them (LogJournals::mutex()).
  JournalService(event::EventBase& base, std::map<std::string, journal::Journal*> journals,
                 std::mutex* mu = nullptr);
  JournalService(const JournalService&) = delete;
  JournalService& operator=(const JournalService&) = delete;
  ~JournalService();

  // The members in the manager role, the only principals ("msgc:<node>") answered. Default:
  // nobody.
  void SetManagers(std::set<std::string> nodes) { managers_ = std::move(nodes); }
  void RegisterCommands(control::CommandRegistry& commands);
  // The `cluster show logs` table.
  std::string ShowLogs() const;

 private:
  struct PendingRead {
    std::string log, subscriber;
    size_t max_records;
    std::chrono::steady_clock::time_point deadline;
    control::Reply reply;
  };
  void Read(const control::Request& request, control::Reply reply);
  Result<std::string> Ack(const control::Request& request);
  Result<journal::Journal*> Find(const std::string& log) const;
  // PermissionDenied (and a warning naming who asked) unless a manager asked.
  Status Authorize(const control::Request& request) const;
  // Answers the read if there is something to send or its time is up; false if it must wait.
  bool TryAnswer(PendingRead& pending, bool final);
  void CheckPending();

  // A lock on mu_ if there is one.
  std::unique_lock<std::mutex> Lock() const;

  std::map<std::string, journal::Journal*> journals_;
  std::set<std::string> managers_;
  std::mutex* mu_;
  std::list<PendingRead> pending_;
  event::Timer tick_;
};

}  // namespace ec::logship
