// Control_Listener { } -> ServerOptions, for every daemon that runs a console (ecmta, eccmgr) and
// for their --check-config. Reads each `Listen` (a path: the unix socket; else a TCP address),
// `file_mode` and `group` (unix socket), and `AuthLoginParameters = [ uri = "file:///..." ]`
// (the user file TCP sessions log in against; hashed secrets only). Options on a Listen scope
// win over the Control_Listener's. A TCP Listen without AuthLoginParameters is an error naming
// file:line. Loads the user file, so it runs where the daemon would (as root, before the drop).
// Stateless; any thread.
#pragma once

#include <ostream>
#include <string>

#include "common/base/status.h"
#include "common/config/check.h"
#include "common/config/tree.h"
#include "common/control/server.h"

namespace ec::control {

// `default_unix_path`: the socket used when no Listen names a path (<run>/ec_console.sock).
Result<ServerOptions> ServerOptionsFromConfig(const config::Config& config,
                                              const std::string& default_unix_path);

// The --check-config step for the above: 0, or 1 after printing "error: file:line: ...".
int CheckControlListener(const config::Config& config, std::ostream& out);
int CheckControlListener(const config::CheckOptions& options, std::ostream& out);

}  // namespace ec::control
