// RootLayout: where a node's files live, all derived from one root directory (default
// /opt/ecmta), so a whole cluster can run unprivileged from temporary directories. The only
// place such paths are spelled; everything else asks a RootLayout. A value type.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/base/status.h"

namespace ec::daemon {

inline constexpr std::string_view kDefaultRoot = "/opt/ecmta";

struct RootLayout {
  std::filesystem::path root;
  std::filesystem::path etc;    // <root>/etc: configuration (the config work tree)
  std::filesystem::path spool;  // <root>/spool: queued messages
  std::filesystem::path log;    // <root>/log: mainlog, rejectlog, the process log ...
  std::filesystem::path run;    // <root>/run: pid files, control socket

  static RootLayout FromRoot(const std::filesystem::path& root = kDefaultRoot);

  // <run>/ec_console.sock: the control socket ec_console talks to.
  std::filesystem::path ConsoleSocket() const { return run / "ec_console.sock"; }
  // <run>/<daemon>.pid
  std::filesystem::path PidFile(std::string_view daemon) const;
  // <log>/<daemon>.log: the key=value process log when not on stderr.
  std::filesystem::path ProcessLog(std::string_view daemon) const;

  // Creates root, etc, spool, log and run (0750) where missing.
  Status CreateDirectories() const;
};

}  // namespace ec::daemon
