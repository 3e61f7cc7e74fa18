#include "mta/daemon/check_config.h"

#include <unistd.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/config/loader.h"
#include "common/control/listener_config.h"
#include "common/daemon/process_setup.h"
#include "mta/cluster/cluster_module.h"
#include "mta/cluster/shared_limits_config.h"
#include "mta/outbound/domain_policy.h"
#include "mta/server/inbound_config.h"

namespace ec::mta {

namespace {

// The checks beyond the language's: what ecmta's start would refuse.
int CheckDaemonConfig(const config::CheckOptions& options, std::ostream& out) {
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
  int rc = 0;
  if (Status s = cluster::ValidateDuravip(**config, options.load.node_name); !s.ok()) {
    out << s.message() << "\n";
    rc = 1;
  }
  // Cluster-wide limits without the Replicate that carries them, an absurd max_delay.
  if (Status s = cluster::ValidateClusterLimits(**config); !s.ok()) {
    out << s.message() << "\n";
    rc = 1;
  }
  return rc;
}

}  // namespace

int CheckConfigMain(const config::CheckOptions& options, std::ostream& out) {
  // The language check ends with "configuration OK": held back until ecmta's own checks pass
  // too, so a refused config never prints it. Its warnings are printed either way.
  std::ostringstream language;
  if (int rc = config::CheckConfigMain(options, language); rc != 0) {
    out << language.str();
    return rc;
  }
  std::string text = language.str();
  const size_t last = text.rfind('\n', text.size() >= 2 ? text.size() - 2 : 0);
  const std::string ok_line = last == std::string::npos ? text : text.substr(last + 1);
  out << text.substr(0, text.size() - ok_line.size());
  if (int rc = CheckDaemonConfig(options, out); rc != 0) return rc;
  out << ok_line;
  return 0;
}

int CheckConfigCommand(const std::string& config, const std::string& root,
                       const std::string& node_name, const std::string& search_path,
                       std::ostream& out) {
  std::vector<std::string> path;
  if (!search_path.empty()) path = config::SplitSearchPath(search_path);
  return mta::CheckConfigMain(
      config::DaemonCheckOptions(config, root, daemon::NodeNameOrEnvironment(node_name),
                                 std::move(path)),
      out);
}

}  // namespace ec::mta
