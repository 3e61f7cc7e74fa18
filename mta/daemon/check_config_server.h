// `ecmta --check-config-server`: the check `ecmta --check-config` runs, without a fork+exec of
// this large binary per check. eccfg's watch starts one server and sends it a request per new
// checkout (common/config/check_wire.h); the server forks a child per request, which runs
// CheckConfigCommand with the request's options in its working directory and EC_CONF_DIR, with
// stdout and stderr collected, then exits. So each check starts from the process state a fresh
// `ecmta --check-config` has (plus the immutable option schema, built once), and is exactly as
// strict: only the dynamic loading and static start-up (most of a check's cost) are shared.
#pragma once

namespace ec::mta {

// Serves requests read from `in_fd`, replies on `out_fd`, until `in_fd` reaches end of file
// (returns 0) or carries something that is not a request (returns 1, reason on stderr).
// Single-threaded; the caller must not have started threads (it forks).
int CheckConfigServerMain(int in_fd, int out_fd);

}  // namespace ec::mta
