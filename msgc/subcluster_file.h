// Reads this node's subcluster from its cluster.boot (msgc/subcluster.h has the rule). Blocking
// file I/O, for start-up; any thread.
#pragma once

#include <string>

#include "common/base/status.h"

namespace ec::msgc {

// "default" when `boot_file` does not exist (a node that eccfg never bootstrapped); the file's
// path in the error when it cannot be read or names an invalid subcluster.
Result<std::string> ReadSubcluster(const std::string& boot_file);

}  // namespace ec::msgc
