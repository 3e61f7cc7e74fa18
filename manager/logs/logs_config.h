// What eccmgr's `Logs { }` scope asks of the Collector: the log root and pattern (split from
// `logfile`), and one node per msgc_server peer other than the manager itself, reached at its
// bus address on `eccluster_port`. Pure functions over an immutable Config; any thread.
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
  std::vector<CollectorNode> nodes;
};

// nullopt when the config has no Logs scope (no aggregation on this manager).
// `peers`: node name -> address (msgc_server peers); `self`: the manager's own name there.
Result<std::optional<CollectorSetup>> CollectorSetupFromConfig(
    const config::Config& config, const std::map<std::string, std::string>& peers,
    const std::string& self, const std::string& state_dir);

// "/var/log/eccluster/%Y/%m/%d/%{l}" -> root "/var/log/eccluster", pattern "%Y/%m/%d/%{l}".
Result<std::pair<std::string, std::string>> SplitLogfile(const std::string& logfile);

}  // namespace ec::logcollect
