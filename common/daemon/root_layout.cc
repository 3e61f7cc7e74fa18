#include "common/daemon/root_layout.h"

#include <string>
#include <system_error>

namespace ec::daemon {

RootLayout RootLayout::FromRoot(const std::filesystem::path& root) {
  RootLayout layout;
  layout.root = root;
  layout.etc = root / "etc";
  layout.spool = root / "spool";
  layout.log = root / "log";
  layout.run = root / "run";
  return layout;
}

std::filesystem::path RootLayout::PidFile(std::string_view daemon) const {
  return run / (std::string(daemon) + ".pid");
}

std::filesystem::path RootLayout::ProcessLog(std::string_view daemon) const {
  return log / (std::string(daemon) + ".log");
}

Status RootLayout::CreateDirectories() const {
  namespace fs = std::filesystem;
  for (const fs::path& dir : {root, etc, spool, log, run}) {
    std::error_code ec;
    bool created = fs::create_directories(dir, ec);
    if (ec) return ErrnoStatus("creating " + dir.string(), ec.value());
    if (created) {
      fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec,
                      ec);
      if (ec) return ErrnoStatus("chmod " + dir.string(), ec.value());
    }
  }
  return Status::Ok();
}

}  // namespace ec::daemon
