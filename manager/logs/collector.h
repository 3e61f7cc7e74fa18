// Collector: eccmgr's log aggregation. One NodeLogPuller per node and log (so a quiet
// rejectlog never delays a busy mainlog), all writing under one log root.
// Start/Stop/Report from one owner thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "manager/logs/node_log_puller.h"
#include "msgc/bus_options.h"

namespace ec::logcollect {

inline const std::vector<std::string> kDefaultLogs = {"mainlog", "rejectlog", "paniclog", "acctlog",
                                                      "bouncelog"};

struct CollectorNode {
  std::string name;
  std::string endpoint;  // ECCluster listener, "127.0.0.2:4802"
};

struct CollectorOptions {
  std::string self;          // the manager's node name, as the nodes know it
  msgc::CurveOptions curve;  // the manager's bus keys (node_log_puller.h)
  std::string log_root;   // Logs `logfile` root
  std::string state_dir;  // where each puller records how far it got
  std::string pattern{kDefaultLogfilePattern};
  std::string subcluster = "default";
  std::string subscriber = "master";
  std::vector<std::string> logs = kDefaultLogs;
  std::chrono::milliseconds wait{500};
  std::function<void(const LogFileName&, std::string_view line)> on_line;
  std::function<void(std::string_view error)> on_error;
};

class Collector {
 public:
  static Result<std::unique_ptr<Collector>> Start(CollectorOptions options,
                                                  const std::vector<CollectorNode>& nodes);
  ~Collector();
  void Stop();
  // One line per node and log: lines, batches, errors, connected.
  std::string Report() const;

 private:
  Collector() = default;
  std::vector<std::unique_ptr<NodeLogPuller>> pullers_;
  std::vector<LogFileName> names_;
};

}  // namespace ec::logcollect
