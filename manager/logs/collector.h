// Collector: eccmgr's log aggregation. One NodeLogPuller per node and log (so a quiet
// rejectlog never delays a busy mainlog), all writing under one log root. Nodes come and go
// (Add/Remove) as the manager learns which bus members are MTA nodes and what the Logs scopes
// ask of them. Every method from one owner thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
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
  std::string subcluster = "default";            // %{s}
  std::vector<std::string> subscribers{"master"};  // in order of preference (SubscribersFor)

  bool operator==(const CollectorNode&) const = default;
};

struct CollectorOptions {
  std::string self;          // the manager's node name, as the nodes know it
  msgc::CurveOptions curve;  // the manager's bus keys (node_log_puller.h)
  std::string log_root;   // Logs `logfile` root
  std::string state_dir;  // where each puller records how far it got
  std::string pattern{kDefaultLogfilePattern};
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
  // Starts pulling `node`'s logs; a node already pulled with other settings is restarted
  // (pullers resume from their state files, so nothing is lost or doubled).
  Status Add(const CollectorNode& node);
  // Stops pulling `name`'s logs (no effect if it is not pulled).
  void Remove(const std::string& name);
  // The node as pulled now, or nullptr.
  const CollectorNode* Find(const std::string& name) const;
  const CollectorOptions& options() const { return options_; }
  // One line per node and log: lines, batches, errors, connected.
  std::string Report() const;

 private:
  explicit Collector(CollectorOptions options) : options_(std::move(options)) {}
  struct Pulled {
    CollectorNode node;
    std::vector<std::unique_ptr<NodeLogPuller>> pullers;  // one per log
  };
  const CollectorOptions options_;
  // One zmq context (one I/O thread) for every puller of this manager.
  std::shared_ptr<zmq::context_t> context_ = std::make_shared<zmq::context_t>(1);
  std::map<std::string, Pulled> nodes_;
};

}  // namespace ec::logcollect
