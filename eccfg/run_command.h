// Runs an operator-configured shell command (the config validator, the reload hook) through
// /bin/sh -c with extra environment variables and a working directory, and collects its exit
// code and combined stdout/stderr (the first 64 KiB). Blocks the calling thread until it exits.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace ec::eccfg {

struct CommandOutcome {
  int exit_code = -1;  // -1 when killed by a signal
  std::string output;
  bool ok() const { return exit_code == 0; }
  // The first non-empty line of the output, for one-line error messages.
  std::string FirstLine() const;
};

Result<CommandOutcome> RunShellCommand(const std::string& command, const std::filesystem::path& cwd,
                                       const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace ec::eccfg
