#include "mta/daemon/check_config.h"

#include <unistd.h>

#include "common/control/listener_config.h"
#include "mta/cluster/cluster_module.h"
#include "mta/outbound/domain_policy.h"
#include "mta/server/inbound_config.h"

namespace ec::mta {

int CheckConfigMain(const config::CheckOptions& options, std::ostream& out) {
  if (int rc = config::CheckConfigMain(options, out); rc != 0) return rc;
  auto config = config::LoadConfig(options.config_path, options.load);
  if (!config.ok()) {
    out << config.status().message() << "\n";
    return 1;
  }
  auto inbound = InboundConfig::Build(*config, "localhost");
  if (!inbound.ok()) {
    out << "error: " << inbound.status().message() << "\n";
    return 1;
  }
  // Bindings, routes, outbound TLS files: what a start would refuse.
  auto outbound = outbound::BuildGlobalOutbound(*config, "localhost");
  if (!outbound.ok()) {
    out << "error: " << outbound.status().message() << "\n";
    return 1;
  }
  // Control_Listener: a TCP console without AuthLoginParameters, an unreadable user file.
  if (int rc = control::CheckControlListener(**config, out); rc != 0) return rc;
  // DuraVIPs: Follow misuse, addresses outside every Topology, one IP under two names...
  if (Status s = cluster::ValidateDuravip(**config, options.load.node_name); !s.ok()) {
    out << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace ec::mta
