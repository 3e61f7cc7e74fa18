// Files that are at every instant either their old or their new content, even across kill -9
// or power loss: state files, cursors, markers. Any thread (no shared state).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec {

// Writes `data` to `path` whole: a temp file beside it, fdatasync, rename, directory fsync.
Status WriteFileAtomically(const std::string& path, std::string_view data, mode_t mode = 0640);
// fsync of a directory, so entries created, renamed or removed in it are durable.
Status SyncDirectoryOf(const std::string& path);

}  // namespace ec
