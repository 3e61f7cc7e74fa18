// The validator's fast path for `eccfg pull --watch`: one `ecmta --check-config-server`
// (mta/daemon/check_config_server.h) kept for the watch's life, asked over a socket pair to
// check each new checkout. The server forks a child per check that runs what `ecmta
// --check-config` runs, so a check costs a fork of a warm process instead of a fork+exec of
// ecmta (whose dynamic loading is most of a check's CPU). The server is started on first use,
// restarted when the ecmta binary on disk changes (an upgrade is used at once), and given up for
// that binary if it dies before answering (an ecmta without --check-config-server): then Check
// returns Unavailable and the caller runs `ecmta --check-config` itself, as before.
// Blocks the calling thread; one thread at a time.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <tuple>

#include "common/base/status.h"
#include "common/config/check_wire.h"
#include "common/daemon/unique_fd.h"
#include "eccfg/run_command.h"

namespace ec::eccfg {

class CheckServer {
 public:
  explicit CheckServer(std::filesystem::path ecmta) : ecmta_(std::move(ecmta)) {}
  ~CheckServer() { Stop(); }
  CheckServer(const CheckServer&) = delete;
  CheckServer& operator=(const CheckServer&) = delete;

  // The outcome `ecmta --check-config` with the request's options would have had (exit code,
  // combined output). Unavailable when the server cannot run or stops answering; it is stopped
  // then, and started again by the next call unless it never answered for this binary.
  Result<CommandOutcome> Check(const config::CheckRequest& request);
  // Starts the server now, so the first check does not wait for ecmta's start-up; a failure is
  // left for Check to meet (and fall back from).
  void Warm();
  // The running server's pid, -1 if none (tests).
  pid_t pid() const { return pid_; }

 private:
  // What identifies the binary on disk: a replaced or rebuilt ecmta differs.
  using BinaryId = std::tuple<dev_t, ino_t, off_t, int64_t>;
  Result<BinaryId> Identify() const;
  Status Start(const BinaryId& id);
  Result<CommandOutcome> Exchange(const config::CheckRequest& request);
  void Stop();

  std::filesystem::path ecmta_;
  pid_t pid_ = -1;
  daemon::UniqueFd socket_;
  BinaryId running_{};
  bool answered_ = false;                // the running server answered at least once
  std::optional<BinaryId> unsupported_;  // a binary whose server died before answering
};

}  // namespace ec::eccfg
