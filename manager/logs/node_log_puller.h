// NodeLogPuller: moves one node's one log from its journal to the manager's disk, exactly once.
// A thread that loops: `journal read` (a long poll) on the node's ECCluster listener (an
// eccluster::ChannelClient, CURVE with the manager's bus keys), append
// the new lines to the file the logfile pattern names, fdatasync, record how far it got in a
// state file (atomically), and only then `journal ack` the node. After a crash of either side
// the state file says which lines the manager already holds: lines the node sends again are
// skipped, and a file that grew past its recorded size (written, not yet recorded) is cut back
// before anything else is written, so no line is doubled and none is lost.
// Start/Stop from one owner thread; the callback runs on the puller's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/status.h"
#include "eccluster/batch.h"
#include "eccluster/channel_client.h"
#include "manager/logs/log_path.h"
#include "msgc/bus_options.h"

namespace ec::logcollect {

struct PullerOptions {
  std::string endpoint;  // the node's ECCluster listener, "127.0.0.2:4802"
  std::string self;      // the manager's node name (msgc_server peers)
  // The manager's bus key pair and the members' public keys (the node's is pinned); not
  // enabled: no CURVE (msgc_server { curve = false }, development only).
  msgc::CurveOptions curve;
  std::shared_ptr<zmq::context_t> context;  // shared by a Collector's pullers; made if null
  LogFileName name;      // log, subcluster, node
  std::string log_root;  // files go to <log_root>/<pattern>
  std::string pattern{kDefaultLogfilePattern};
  std::string state_path;  // <state dir>/<node>/<log>.state
  // Journal subscribers to read, in order of preference: the first the node's journal has
  // (Logs { Manager { Node { subscriber } } }, logcollect::SubscribersFor).
  std::vector<std::string> subscribers{"master"};
  size_t batch_records = 2000;
  std::chrono::milliseconds wait{500};   // long poll per read
  std::chrono::milliseconds retry{500};  // after a failure, growing to 10 s
  // Each line made durable, for tail -f and the lag benchmark. Each goes to the file its own
  // time names (LineTime), so lines pulled after midnight still land in their day's file.
  std::function<void(const LogFileName&, std::string_view line)> on_line;
  // The first error of a streak and the recovery after it; not every retry of the same error.
  std::function<void(std::string_view error)> on_error;
};

struct PullerState {
  eccluster::JournalPosition next;  // the node's position after the last line we hold
  std::string file;        // relative path of the file last written
  uint64_t size = 0;       // its size once that line was durable
};

Result<PullerState> LoadPullerState(const std::string& path);
std::string EncodePullerState(const PullerState& state);

struct PullerStats {
  uint64_t lines = 0, batches = 0, skipped = 0, errors = 0;
  bool connected = false;
  std::string subscriber;  // the one being read, once the node has answered
};

class NodeLogPuller {
 public:
  explicit NodeLogPuller(PullerOptions options);
  ~NodeLogPuller();  // Stop()
  NodeLogPuller(const NodeLogPuller&) = delete;
  NodeLogPuller& operator=(const NodeLogPuller&) = delete;

  // Repairs the last file from the state file, then starts the thread.
  Status Start();
  void Stop();
  PullerStats stats() const;

 private:
  void Run();
  Status Repair();
  // One read, write, record, ack round.
  Status Round(eccluster::ChannelClient& client);
  Status WriteLines(const std::vector<eccluster::ShippedRecord>& records);
  // Appends `run` (lines bound for one `file`) durably and records how far it got.
  Status WriteRun(const std::vector<const eccluster::ShippedRecord*>& run, const std::string& file);
  void Sleep(std::chrono::milliseconds d);

  const PullerOptions options_;
  PullerState state_;
  size_t candidate_ = 0;  // index in options_.subscribers; puller thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  mutable std::mutex stats_mu_;
  PullerStats stats_;
};

}  // namespace ec::logcollect
