// What eccmgr's `Logs { }` scope asks of the Collector: the log root and pattern (split from
// `logfile`), and for each MTA node (a bus member in the control group, see ManagerDaemon) the
// subscribers to read (Manager/Node scopes, subscriptions.h), reached at its msgc_server
// address on `eccluster_port`. Pure functions over an immutable Config; any thread.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "manager/logs/collector.h"

namespace ec::logcollect {

struct CollectorSetup {
  CollectorOptions options;
  int64_t port = 4802;  // eccluster_port
};

// nullopt when the config has no Logs scope (no aggregation on this manager). `self`: the
// manager's own name among the msgc_server peers.
Result<std::optional<CollectorSetup>> CollectorSetupFromConfig(const config::Config& config,
                                                               const std::string& self,
                                                               const std::string& state_dir);

// How this manager pulls `node` (an MTA node of `subcluster`); nullopt when it must not: the
// manager itself, a name that is not a msgc_server peer (`peers`: name -> address), or Logs
// scopes that give it no subscriber (`subscriber = ( )`).
Result<std::optional<CollectorNode>> CollectorNodeFor(
    const config::Config& config, const CollectorSetup& setup,
    const std::map<std::string, std::string>& peers, const std::string& node,
    const std::string& subcluster);

// "/var/log/eccluster/%Y/%m/%d/%{l}" -> root "/var/log/eccluster", pattern "%Y/%m/%d/%{l}".
Result<std::pair<std::string, std::string>> SplitLogfile(const std::string& logfile);

}  // namespace ec::logcollect
