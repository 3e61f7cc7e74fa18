// The ecconfigd process after option parsing: serve until SIGTERM/SIGINT (RunDaemon), or manage
// the admin password file (RunPasswd). Both return the process exit code and print one clear
// line on failure. Called from main() on the main thread, before any other thread exists.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>

#include "ecconfigd/server.h"

namespace ec::ecconfigd {

struct DaemonOptions {
  ServerOptions server;
  bool foreground = false;
  std::filesystem::path port_file;  // if set, the bound port is written here once listening
  std::filesystem::path log_file;   // empty: stderr
  std::filesystem::path pid_file;   // one ecconfigd per pid file (common/daemon/pid_file.h)
  // The bus: peers from this msgc_server.conf; we are the peer `node_name`. A missing file, or
  // one that does not name us, means no bus (logged); one that does not parse stops the start.
  std::filesystem::path bus_config;
  std::filesystem::path bus_secret_key;  // default CURVE key pair (<root>/etc/msgc.key)
  std::string node_name;
  // Security { } is read from this file (the manager's eccluster.conf; a relative name is
  // found through <root>'s search path); empty: keep the current identity.
  std::string config;
  std::filesystem::path root;  // runtime root: run/ and log/ are given to Security's user
};

// Exit codes: 0 clean stop, 1 bad usage/config, 2 cannot start (repository, certificate, port,
// pid file held by another ecconfigd, bus).
int RunDaemon(const DaemonOptions& options);

// Sets USER's password in <state_dir>/passwd from the first line of `in`. 0 on success.
int RunPasswd(const std::filesystem::path& state_dir, const std::string& user, std::istream& in);

}  // namespace ec::ecconfigd
