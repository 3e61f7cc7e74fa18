// `ecmta --check-config`: the generic language check (every problem with file:line), then what
// only ecmta knows: each listener's settings are resolved as a start or reload would (TLS
// certificate and key, password files, CIDRs, the banner). eccfg runs this in a new checkout
// before switching to it, so a revision this node cannot run is refused there.
#pragma once

#include <ostream>
#include <string>

#include "common/config/check.h"

namespace ec::mta {

// Returns the process exit code: 0 when the node could start on this configuration, else 1.
int CheckConfigMain(const config::CheckOptions& options, std::ostream& out);

// `ecmta --check-config` from its option values (`search_path` ':'-separated, empty: the
// default; `node_name` empty: $EC_NODE_NAME, else the host's). The command line and
// --check-config-server (check_config_server.h) both run this.
int CheckConfigCommand(const std::string& config, const std::string& root,
                       const std::string& node_name, const std::string& search_path,
                       std::ostream& out);

}  // namespace ec::mta
