// cluster.boot: the node's small key=value file beside its working copy (<etc>/cluster.boot) that
// says which cluster it belongs to and where the config repository is. Written by
// `eccfg bootstrap`, read by every other command. Keys (Momentum's, plus ours):
//   cluster_name=default          the subcluster (required)
//   node_name=mta1
//   repo=host[:port]              ecconfigd over HTTPS (port 2027 by default), or an absolute
//                                 path: ecconfigd's state dir on this host (<path>/<cluster>.git)
//   autoupdate=true|ifunchanged|false   what `pull --auto` does (ifunchanged: skip if local edits)
//   reload_config_on_update=true  run the reload command after a pull that changed something
//   validate_command=...          shell command run on each new checkout before it is swapped
//                                 in (default: ecmta --check-config over it; none: no check)
//   reload_command=...            shell command run after a swap (default: `config reload`
//                                 sent to the running ecmta's control socket)
//   ecmta=PATH                    the ecmta binary that validates (default: beside eccfg)
//   control_socket=PATH|host:port the running ecmta's control socket
//                                 (default <root>/run/ec_console.sock)
// The pinned server certificate and the cluster secret sit beside it as ecconfigd.crt and
// ecconfigd.secret (the node's own "<node>:<secret>" after `eccfg enrol`). A value type.
#pragma once

#include <filesystem>
#include <string>

#include "common/base/status.h"

namespace ec::eccfg {

struct ClusterBoot {
  std::string cluster_name = "default";
  std::string node_name;
  std::string repo;
  std::string autoupdate = "true";
  bool reload_config_on_update = true;
  std::string validate_command;
  std::string reload_command;
  std::string ecmta;
  std::string control_socket;

  static Result<ClusterBoot> Load(const std::filesystem::path& path);
  std::string Render() const;
};

}  // namespace ec::eccfg
