// What every daemon's main() does between parsing its options and starting its daemon object:
// the process log's level and node name, detaching unless told to stay in the foreground, and
// the log file (<root>/log/<program>.log when detached and none was named). Main thread, once.
#pragma once

#include <iostream>
#include <string>

#include "common/log/logger.h"

namespace ec::daemon {

struct ProcessSetup {
  std::string program;  // "ecmta": prefixes errors and names the default log file
  std::string root;
  std::string node_name;
  std::string log_level = "info";
  std::string log_file;  // empty: stderr in the foreground
  bool foreground = false;
};

// 0 when the process is ready to start its daemon; else the exit code to return (2 for a bad
// option, 1 for a failure), the reason already on stderr.
int SetUpProcess(ProcessSetup setup);

// main()'s last step: SetUpProcess, then the daemon from `create` (a Result<unique_ptr<D>>,
// D having Status Run()) until it stops. Returns the process exit code.
template <typename Create>
int RunDaemon(const ProcessSetup& setup, Create create) {
  if (int rc = SetUpProcess(setup); rc != 0) return rc;
  auto daemon = create();
  if (!daemon.ok()) {
    EC_LOG(kError, "cannot start").Field("program", setup.program).Field("error", daemon.status());
    std::cerr << setup.program << ": " << daemon.status().message() << "\n";
    return 1;
  }
  const Status s = (*daemon)->Run();
  daemon->reset();
  return s.ok() ? 0 : 1;
}

// A daemon's node name: `given` (--node-name), else $EC_NODE_NAME, else "" (the caller's
// default, usually the short host name).
std::string NodeNameOrEnvironment(std::string given);

}  // namespace ec::daemon
