// ConfigPuller: runs `eccfg pull --auto` when ecconfigd announces a new revision on `ec_config`,
// without ever blocking the loop: the child is started with posix_spawn (in its own process
// group) and reaped by a short poll timer. At most one pull runs at a time; new revisions noticed
// meanwhile are coalesced into one more pull after it, which fetches the newest anyway.
// ecconfigd re-announces its revisions every few seconds (notices are state, not events), so a
// revision a successful pull already covered is ignored, and one whose pull failed is retried
// only after `retry_after`. A pull that outlives `timeout` is killed with its process group.
// Owned by the ClusterModule; loop thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"

namespace ec::mta::cluster {

struct ConfigPullerOptions {
  std::vector<std::string> argv;  // e.g. {"/opt/ecmta/bin/eccfg", "pull", "--auto", "--root", R}
  std::chrono::milliseconds timeout{120000};
  std::chrono::milliseconds retry_after{60000};
  std::chrono::milliseconds poll_interval{50};
  // One log line per event (`event=config_pull_started revision=...`).
  std::function<void(std::string_view line)> log;
};

class ConfigPuller {
 public:
  ConfigPuller(event::EventBase& base, ConfigPullerOptions options);
  ~ConfigPuller();  // kills a pull still running and reaps it
  ConfigPuller(const ConfigPuller&) = delete;
  ConfigPuller& operator=(const ConfigPuller&) = delete;

  // A revision notice; `revision` must be 40 hex characters (else kInvalidArgument, ignored).
  Status Notice(std::string_view revision);

  bool running() const { return pid_ > 0; }
  uint64_t started() const { return started_; }        // pulls started
  uint64_t succeeded() const { return succeeded_; }    // exit status 0
  uint64_t failed() const { return failed_; }          // nonzero exit, signal, spawn failure, kill
  uint64_t coalesced() const { return coalesced_; }    // notices folded into a pending pull
  uint64_t duplicates() const { return duplicates_; }  // re-announcements of covered revisions
  const std::string& last_revision() const { return last_revision_; }

 private:
  void Spawn();
  void Poll();

  const ConfigPullerOptions options_;
  event::Timer poll_timer_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point spawned_at_;
  bool Covered(const std::string& revision) const;

  bool killed_ = false;
  std::string last_revision_;
  std::vector<std::string> waiting_;    // noticed, not yet covered by a started pull
  std::vector<std::string> in_flight_;  // covered by the running pull
  std::vector<std::string> covered_;    // covered by a successful pull (the newest 64)
  std::map<std::string, std::chrono::steady_clock::time_point> failed_at_;
  uint64_t started_ = 0, succeeded_ = 0, failed_ = 0, coalesced_ = 0, duplicates_ = 0;
};

// True for exactly 40 hex digits.
bool IsRevisionId(std::string_view revision);

}  // namespace ec::mta::cluster
