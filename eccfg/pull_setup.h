// How a pull runs, from the command line and cluster.boot: the conflict policy, the validator
// (ecmta --check-config over the new checkout unless a shell command or `none` is configured)
// and the reloader (`config reload` to the control socket unless a shell command, `none` or
// reload_config_on_update=false). Stateless; any thread.
#pragma once

#include <filesystem>

#include "eccfg/cli.h"
#include "eccfg/cluster_boot.h"
#include "eccfg/working_copy.h"

namespace ec::eccfg {

// `root` is the node's root directory (the working copy is normally <root>/etc/conf).
PullOptions MakePullOptionsFor(const CliOptions& options, const ClusterBoot& boot,
                               const std::filesystem::path& root);

}  // namespace ec::eccfg
