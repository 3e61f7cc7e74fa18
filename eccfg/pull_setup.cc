#include "eccfg/pull_setup.h"

#include <cstdlib>

#include "common/daemon/process_setup.h"
#include "common/daemon/root_layout.h"
#include "eccfg/hooks.h"

namespace ec::eccfg {
namespace fs = std::filesystem;

PullOptions MakePullOptionsFor(const CliOptions& o, const ClusterBoot& boot, const fs::path& root) {
  PullOptions p;
  if (o.mine) p.policy = ConflictPolicy::kMine;
  if (o.theirs) p.policy = ConflictPolicy::kTheirs;
  if (o.manual) p.policy = ConflictPolicy::kManual;
  std::string validate = o.validate_command.value_or(boot.validate_command);
  if (validate == "none") {
    // The operator chose no validation (a host without ecmta, such as an editing desk).
  } else if (!validate.empty()) {
    p.validator = ShellValidator(validate);
  } else {
    EcmtaCheck check;
    check.root = root;
    check.wc = o.wc;
    check.node_name = daemon::NodeNameOrEnvironment(boot.node_name);
    check.keep_server = o.watch;
    std::string ecmta = o.ecmta.value_or(boot.ecmta);
    Result<fs::path> found = ecmta.empty() ? FindEcmta() : Result<fs::path>(fs::path(ecmta));
    if (found.ok()) {
      check.ecmta = *found;
      p.validator = EcmtaValidator(std::move(check));
    } else {
      // Refuse every new revision, saying why, rather than apply one unchecked.
      p.validator = [status = found.status()](const fs::path&) -> Result<CommandOutcome> {
        return status;
      };
    }
  }
  if (!boot.reload_config_on_update && !o.reload_command) return p;
  std::string reload = o.reload_command.value_or(boot.reload_command);
  if (reload == "none") return p;
  if (!reload.empty()) {
    p.reloader = ShellReloader(reload);
  } else {
    std::string socket = o.control_socket.value_or(boot.control_socket);
    if (socket.empty()) socket = daemon::RootLayout::FromRoot(root).ConsoleSocket().string();
    p.reloader = ControlReloader(socket);
  }
  return p;
}

}  // namespace ec::eccfg
