// Per-node fetch credentials, as pure decisions (docs/enrolment.md). Enrolment gives each node a
// random 256-bit secret of its own; the node sends "<node>:<secret>" on fetch and wait (HTTP
// Basic, or as a Bearer token), and ecconfigd keeps only a salted hash, one line per node in
// <state_dir>/node.credentials:
//   <node> <issued, unix seconds> sha256 <salt, 32 hex> <SHA-256(salt hex + secret), 64 hex>
// A fast hash on purpose: the secret is 256 random bits, not a password, so no dictionary or
// brute force can reach it and key stretching (the 600,000-iteration PBKDF2 of auth.h) would
// only cost every fetch and long poll ~0.3 s; the salt keeps equal secrets from showing.
// A damaged line never hides the others: it is reported with its number, kept verbatim when the
// file is rewritten, and dropped only by re-enrolling or revoking the node it names.
// The cluster-wide secret (auth.h) stays valid for nodes bootstrapped with it: a Bearer token
// without a ':'. Value types and free functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::ecconfigd {

inline constexpr size_t kNodeSecretBytes = 32;  // 256 random bits
inline constexpr size_t kNodeSaltBytes = 16;

struct NodeCredential {
  std::string node;
  int64_t issued = 0;  // unix seconds
  std::string salt;    // lower-case hex
  std::string hash;    // lower-case hex
};

struct NodeCredentialFile {
  std::vector<NodeCredential> entries;  // at most one per node
  std::vector<std::string> damaged;     // lines that did not parse, verbatim
  std::vector<std::string> errors;      // one per damaged line: "line N: why"
};

// Never fails: damaged lines (and a node's second line) go to `damaged` with an error each.
NodeCredentialFile ParseNodeCredentials(std::string_view text);
std::string RenderNodeCredentials(const NodeCredentialFile& file);

NodeCredential MakeNodeCredential(std::string_view node, std::string_view secret,
                                  std::string_view salt, int64_t issued);
// True when `node` has a line and `secret` hashes to it. The comparison is constant-time, and an
// unknown node costs the same hash as a known one.
bool VerifyNodeCredential(const NodeCredentialFile& file, std::string_view node,
                          std::string_view secret);
// `file` with `fresh` in place of any line (damaged or not) for the same node.
NodeCredentialFile WithNodeCredential(NodeCredentialFile file, NodeCredential fresh);
// `file` without any line (damaged or not) for `node`; *removed says whether there was one.
NodeCredentialFile WithoutNodeCredential(NodeCredentialFile file, std::string_view node,
                                         bool* removed);

// What a fetch or wait presents: a node's credential, or (node empty) the cluster secret.
struct FetchCredential {
  std::string node;
  std::string secret;
};
// "<node>:<secret>": what the enrol answer carries and the node keeps in etc/ecconfigd.secret.
std::string FormatNodeCredential(std::string_view node, std::string_view secret);
// The Authorization header of a fetch or wait: "Basic base64(node:secret)", "Bearer node:secret"
// (a node enrolled by this ecconfigd, with an older eccfg) or "Bearer <cluster secret>".
Result<FetchCredential> ParseFetchAuthorization(std::string_view header);
// The header eccfg sends for what it keeps in etc/ecconfigd.secret: Basic for a node's
// credential, Bearer for the cluster secret (which older ecconfigd versions also understand).
std::string FetchAuthorization(std::string_view stored);

}  // namespace ec::ecconfigd
