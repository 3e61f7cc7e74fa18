// What enrolment writes, as pure functions: the clone package a new node unpacks into its root
// (a tar.gz of etc/cluster.boot and etc/ecconfigd.crt: where the repository is and which
// certificate to pin; no password, no secret, no private key), and the peers entry added to
// global/msgc_server.conf. The tar is built here, so every name in it is checked by
// ValidPackagePath (relative, no "..", no absolute path). The gzip uses stored (uncompressed)
// deflate blocks: the package is a few KiB and no zlib is needed. Any thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::ecconfigd {

struct PackageFile {
  std::string path;  // relative to the node's root
  std::string content;
  mode_t mode = 0644;
};

// Relative, components of [A-Za-z0-9._-] that are not "." or "..", under 100 bytes (ustar).
bool ValidPackagePath(std::string_view path);

// The package for `node`: cluster.boot pointing at `repo` (host[:port]) and the PEM to pin.
std::vector<PackageFile> ClonePackageFiles(std::string_view node, std::string_view subcluster,
                                           std::string_view repo, std::string_view certificate);

// A ustar archive of `files` (owner root, the given modes), gzip-framed.
Result<std::string> BuildTarGz(const std::vector<PackageFile>& files);

// `conf` (msgc_server.conf) with `node = "address"` in its `peers = [ ... ]` list: added before
// the closing bracket, or the address replaced if the node is listed already. FailedPrecondition
// when there is no peers list.
Result<std::string> AddBusPeer(std::string_view conf, std::string_view node,
                               std::string_view address);

}  // namespace ec::ecconfigd
