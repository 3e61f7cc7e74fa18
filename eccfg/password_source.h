// Where eccfg gets the admin password for a commit: never the command line (every local user can
// read it in ps and /proc). In order: --password-file FILE (first line), the ECCFG_PASSWORD
// environment variable, else a prompt without echo on the controlling terminal when standard
// input is one. Calling thread; the prompt touches the terminal's settings and restores them.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/base/status.h"

namespace ec::eccfg {

inline constexpr char kPasswordEnv[] = "ECCFG_PASSWORD";

struct PasswordSources {
  std::filesystem::path file;              // --password-file
  std::optional<std::string> environment;  // $ECCFG_PASSWORD
  int terminal_fd = -1;                    // a TTY to prompt on, or -1
};

// The sources of this process: $ECCFG_PASSWORD, and stdin when it is a terminal.
PasswordSources ProcessPasswordSources(const std::filesystem::path& file);

// PermissionDenied (with the three ways to give one) when no source has a password.
Result<std::string> ObtainPassword(const PasswordSources& sources);

// Prompts on `fd` with echo off, reads one line (up to 4096 bytes) and restores the terminal.
Result<std::string> PromptNoEcho(int fd, const std::string& prompt);

}  // namespace ec::eccfg
