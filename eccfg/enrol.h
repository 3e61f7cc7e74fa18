// `eccfg enrol`: completes a clone package unpacked into the node's root (etc/cluster.boot and
// the pinned etc/ecconfigd.crt, see ecconfigd/enrol_package.h). Makes the node's own CURVE key
// pair (<root>/etc/msgc.key, mode 0600; kept if it exists), sends the public half with the
// one-time token ($ECCFG_ENROL_TOKEN or --token-file) to POST /enrol/<node>, stores the node's
// own fetch credential it gets back ("<node>:<secret>" in <etc>/ecconfigd.secret, 0600,
// atomically; `ecconfigd revoke <node>` cancels it), then pulls the first config
// like bootstrap (validated; no reload: ecmta is not running yet). Calling thread; exit codes
// of cli.h.
#pragma once

#include <iosfwd>

#include "eccfg/cli.h"

namespace ec::eccfg {

inline constexpr char kEnrolTokenEnv[] = "ECCFG_ENROL_TOKEN";

int RunEnrol(const CliOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ec::eccfg
