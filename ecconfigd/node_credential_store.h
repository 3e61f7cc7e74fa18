// NodeCredentialStore: the per-node fetch credentials file in ecconfigd's state dir
// (node.credentials, node_credentials.h; mode 0600, written atomically and synced) behind an
// flock (node.credentials.lock), shared by enrolment in the daemon and `ecconfigd revoke`.
// Verify() re-reads the file whenever its inode, size or mtime changed since the last call (one
// stat per request), so a revocation by another process counts from the next request on.
// Run as root (`ecconfigd revoke`), the files are given to the state dir's owner, the daemon's
// user. Issue/Revoke: blocking file I/O, any thread. Verify: one thread at a time (the server's
// loop).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "ecconfigd/node_credentials.h"

namespace ec::ecconfigd {

class NodeCredentialStore {
 public:
  explicit NodeCredentialStore(std::filesystem::path state_dir) : dir_(std::move(state_dir)) {}

  // A fresh random secret for `node`, replacing its old credential; returns "<node>:<secret>",
  // the only time the secret exists outside the node.
  Result<std::string> Issue(std::string_view node, int64_t now);
  // Removes `node`'s credential (a damaged line naming it too). NotFound when it had none.
  Status Revoke(std::string_view node);
  // Whether `secret` is `node`'s credential; an error when the file cannot be read.
  Result<bool> Verify(std::string_view node, std::string_view secret);
  // The file as it is now (a missing file is an empty one).
  Result<NodeCredentialFile> Read() const;

  std::filesystem::path file() const { return dir_ / "node.credentials"; }
  std::filesystem::path lock_file() const { return dir_ / "node.credentials.lock"; }

 private:
  struct Stamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  Result<Stamp> StatFile() const;
  // Atomically, synced, mode 0600; run as root, the file goes to the dir's owner (FileLock
  // gives the lock away likewise).
  Status Write(const NodeCredentialFile& updated) const;

  std::filesystem::path dir_;
  bool loaded_ = false;
  Stamp stamp_;
  NodeCredentialFile cached_;
};

}  // namespace ec::ecconfigd
