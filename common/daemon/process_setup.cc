#include "common/daemon/process_setup.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "common/daemon/daemonize.h"
#include "common/log/logger.h"

namespace ec::daemon {

std::string NodeNameOrEnvironment(std::string given) {
  if (!given.empty()) return given;
  const char* env = std::getenv("EC_NODE_NAME");
  return env ? env : "";
}

int SetUpProcess(ProcessSetup setup) {
  auto level = log::ParseLevel(setup.log_level);
  if (!level.ok()) {
    std::cerr << setup.program << ": --log-level: " << level.status().message() << "\n";
    return 2;
  }
  auto& logger = log::Logger::Global();
  logger.SetLevel(*level);
  logger.SetNode(setup.node_name);
  if (!setup.foreground && setup.log_file.empty()) {
    setup.log_file = setup.root + "/log/" + setup.program + ".log";
  }
  // The log file first, while stderr still reaches the operator: a detached daemon that cannot
  // open it would otherwise fail without a word.
  if (!setup.log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(setup.log_file).parent_path(), ec);
    if (auto s = logger.LogToFile(setup.log_file); !s.ok()) {
      std::cerr << setup.program << ": " << s.message() << "\n";
      return 1;
    }
  }
  if (!setup.foreground) {
    if (auto s = Daemonize(); !s.ok()) {
      std::cerr << setup.program << ": " << s.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace ec::daemon
