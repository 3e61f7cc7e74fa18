// The step every daemon takes once its sockets are bound and before it starts a thread:
// read Security { user group capabilities } from its configuration, give it the directories
// it will write, and drop to that user. Main thread, once, while it is the only thread.
#pragma once

#include <filesystem>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/daemon/privileges.h"
#include "common/daemon/root_layout.h"

namespace ec::daemon {

// Security's settings (stanzas merge, the last setting wins); user defaults to the schema's
// default ("ecuser"), an empty group means the user's primary group. A bad capability name is
// kInvalidArgument with the option's file:line.
Result<PrivilegeSpec> PrivilegeSpecFromConfig(const config::Config& config);

// As root with a user: OwnLayout(layout, extra_dirs), then DropPrivileges(spec). Otherwise
// just DropPrivileges (which logs why nothing changes).
Status RunAsConfiguredUser(const PrivilegeSpec& spec, const RootLayout& layout,
                           const std::vector<std::filesystem::path>& extra_dirs = {});

}  // namespace ec::daemon
