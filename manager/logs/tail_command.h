// `eccmgr logs tail [-f] [--node N] [--log L] [-n LINES] [--root R] [--node-name M]
// [--config F] [--search-path P]`: reads the manager's config for where the Logs scope puts the aggregated
// files, then prints them (tail.h). Runs in the caller's process; -f runs until interrupted.
#pragma once

namespace ec::logcollect {

// argv[0] is "tail"; returns the exit code (0 ok, 1 error, 2 usage).
int LogsTailMain(int argc, char** argv);

}  // namespace ec::logcollect
