// `ecconfigd enroll NODE`: registers a node's enrolment (a one-time token, EnrolStore) and prints
// the single command that enrols the new host: curl fetches the clone package over HTTPS, pinned
// to the manager certificate's public key, tar unpacks it into the node's root, and
// `eccfg enrol` sends the node's new public key with the token (docs/enrolment.md). The token is
// printed only here; ecconfigd keeps its hash. `ecconfigd revoke NODE` takes the fetch
// credential enrolment gave the node away again. Run on the main thread; return the exit code.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <string>

#include "common/base/status.h"

namespace ec::ecconfigd {

struct EnrollOptions {
  std::filesystem::path state_dir;  // ecconfigd's: enrol.tokens and server.crt live there
  std::string node;
  std::string subcluster = "default";
  std::string address;   // the node's bus address for the peers list; empty: where it enrols from
  std::string manager;   // host[:port] the new host reaches ecconfigd at
  std::string ttl = "1h";
  std::string node_root = "/opt/ecmta";  // where the package is unpacked on the new host
};

// "sha256//<base64>" of the certificate's public key (curl --pinnedpubkey).
Result<std::string> PublicKeyPin(const std::filesystem::path& pem_file);

int RunEnroll(const EnrollOptions& options, std::ostream& out, std::ostream& err);

// `ecconfigd revoke NODE`: removes the node's fetch credential (NodeCredentialStore); a running
// ecconfigd refuses that node's next fetch or long poll. 0 done, 1 bad usage or no credential for
// NODE, 2 the file cannot be read or written.
int RunRevoke(const std::filesystem::path& state_dir, const std::string& node, std::ostream& out,
              std::ostream& err);

}  // namespace ec::ecconfigd
