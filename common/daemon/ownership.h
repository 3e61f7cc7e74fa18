// Ownership of the directories a daemon writes once it no longer runs as root: spool, log,
// run and the config tree eccfg writes. Called as root, from the main thread, just before the
// privilege drop. Symlinks are never followed: a link is reported, not chowned through.
#pragma once

#include <filesystem>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/privileges.h"
#include "common/daemon/root_layout.h"

namespace ec::daemon {

// Creates `dir` (0750) where missing and gives it to `account`. When its owner changes (the
// first start after running as root), everything below it changes owner too, once; when it
// already belongs to `account`, only the regular files directly inside it are checked, so a
// large spool is not walked at every start. A symlinked `dir` is left alone (logged).
Status OwnDirectory(const std::filesystem::path& dir, const Account& account);

// Gives an existing regular file (a log file, msgc.key) to `account`; missing is fine.
Status OwnFile(const std::filesystem::path& file, const Account& account);

// For a tool run as root beside a daemon that already runs as its user (`ecconfigd enroll`,
// `revoke`, `passwd` write the daemon's state dir): gives the regular file `file` the owner and
// group of the directory it sits in, so the daemon can still read, replace and lock it. Does
// nothing unless running as root, or when they match already, or for a symlink or a file with
// another hard link (either could point at a file root must keep); a missing file is fine.
Status GiveToDirectoryOwner(const std::filesystem::path& file);

// The layout's etc, spool, log and run plus `extra_dirs`, via OwnDirectory; and the root
// itself made traversable by the account's group when root owns it with no access for others.
Status OwnLayout(const RootLayout& layout, const Account& account,
                 const std::vector<std::filesystem::path>& extra_dirs = {});

}  // namespace ec::daemon
