// Runs a program (ecmta --check-config) or an operator-configured shell command (through
// /bin/sh -c) with extra environment variables and a working directory, and collects its exit
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
  // The first line that says "error" (ecmta --check-config may warn first), else FirstLine().
  std::string FirstErrorLine() const;
};

// argv[0] is the program's path (no $PATH search); exit code 127 if it cannot be run.
Result<CommandOutcome> RunProgram(const std::vector<std::string>& argv,
                                  const std::filesystem::path& cwd,
                                  const std::vector<std::pair<std::string, std::string>>& env);

Result<CommandOutcome> RunShellCommand(const std::string& command, const std::filesystem::path& cwd,
                                       const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace ec::eccfg
