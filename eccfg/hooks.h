// The two hooks of a pull: the validator, run on each new checkout before it is swapped in, and
// the reloader, run after a successful swap. The defaults are the real ones: `ecmta
// --check-config` over the new checkout (with the node's search path pointed at it) and
// `config reload` sent to the running ecmta's control socket. Operators may replace either with
// a shell command (cluster.boot validate_command= / reload_command=). Each hook blocks the
// calling thread until it is done; a hook object may be called from one thread at a time.
#pragma once

#include <git2.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "eccfg/run_command.h"

namespace ec::eccfg {

// ok() lets the checkout in; its output explains a refusal. An error Status (cannot run the
// check at all) also refuses the revision.
using Validator = std::function<Result<CommandOutcome>(const std::filesystem::path& checkout)>;
// `wc` is the working-copy path (now naming the new revision), `revision` its id.
using Reloader =
    std::function<Result<CommandOutcome>(const std::filesystem::path& wc, const git_oid& revision)>;

// /bin/sh -c COMMAND in the checkout, with EC_CONF_DIR=<checkout>.
Validator ShellValidator(std::string command);
// /bin/sh -c COMMAND in <wc>/.., with EC_CONF_DIR=<wc> and EC_CONF_REVISION=<40 hex>.
Reloader ShellReloader(std::string command);

struct EcmtaCheck {
  std::filesystem::path ecmta;  // the binary
  std::filesystem::path root;   // the node's root (<root>/etc/conf is the working copy)
  std::filesystem::path wc;     // the working-copy path the node's search path names
  std::string node_name;        // empty: ecmta's own default
  std::string config = "ecelerity.conf";
  // Check through one kept `ecmta --check-config-server` (check_server.h; a fork per check
  // instead of a fork+exec of ecmta), falling back to running `ecmta --check-config` when that
  // server cannot answer. For pull --watch, which checks many revisions in one process.
  bool keep_server = false;
};
// The search path ecmta would use on this node (EC_CONF_SEARCH_PATH, else the default one over
// `check.root`), with every entry inside `check.wc` moved into `checkout`.
std::vector<std::string> SearchPathOver(const EcmtaCheck& check,
                                        const std::filesystem::path& checkout);
// ecmta --check-config --root R --node-name N --config C --search-path <SearchPathOver>, in the
// checkout with EC_CONF_DIR=<checkout>; the same check in the kept server with `keep_server`.
Validator EcmtaValidator(EcmtaCheck check);

// Sends `config reload` to `endpoint` (a control socket path or host:port, see
// common/control/client.h). No ecmta listening there is not a failure: the next start reads
// the new revision anyway, and the outcome says so. A refused reload is exit code 1.
Reloader ControlReloader(std::string endpoint);

// The ecmta binary eccfg validates with when none is configured: beside this program, then the
// build tree's mta/daemon/ecmta, then $PATH. NotFound names the places looked at.
Result<std::filesystem::path> FindEcmta();

}  // namespace ec::eccfg
