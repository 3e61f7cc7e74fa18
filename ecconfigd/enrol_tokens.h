// Enrolment tokens, as pure decisions (docs/enrolment.md). `ecconfigd enroll <node>` makes a
// random one-time token; only its SHA-256 is kept, in ecconfigd's state dir, one line per node:
//   <node> <subcluster> <address|-> <sha256 hex> <expires, unix seconds> <pending|spent>
// The token lets exactly one request per node fetch the clone package (any number of times until
// it is spent) and enrol once. Spent and expired lines stay a day so that their refusal can say
// why. Value types and free functions; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::ecconfigd {

inline constexpr size_t kEnrolTokenBytes = 24;  // 192 random bits
inline constexpr int64_t kKeepSpentSeconds = 24 * 3600;

struct EnrolEntry {
  std::string node;
  std::string subcluster = "default";
  std::string address;  // the node's bus address; empty: the address it enrols from
  std::string hash;     // SHA-256 of the token, lower-case hex
  int64_t expires = 0;  // unix seconds
  bool spent = false;
};

// Node names: msgc::IsValidNodeName, the bus's rule (msgc/node_name.h).
// A bus address in the peers list: letters, digits, '.', ':', '-', 1..255 (no quotes, spaces).
bool ValidPeerAddress(std::string_view address);

std::string HashToken(std::string_view token);
// `bytes` from the OpenSSL random generator, lower-case hex.
Result<std::string> NewToken(size_t bytes = kEnrolTokenBytes);
// Exactly `length` characters of [0-9a-f] (stored hashes and salts).
bool IsLowerHex(std::string_view s, size_t length);
// The lines of a state file (a last line without '\n' counts), and a line's words, split on
// spaces, tabs and CRs.
std::vector<std::string_view> SplitLines(std::string_view text);
std::vector<std::string_view> SplitFields(std::string_view line);

Result<std::vector<EnrolEntry>> ParseEnrolTokens(std::string_view text);
std::string RenderEnrolTokens(const std::vector<EnrolEntry>& entries);

// The index of the entry `token` opens for `node` at `now`. Every refusal is PermissionDenied
// and says why: unknown token, another node's token, spent, expired. Every entry's hash is
// compared in constant time, whatever matched first.
Result<size_t> FindEnrolment(const std::vector<EnrolEntry>& entries, std::string_view node,
                             std::string_view token, int64_t now);

// `entries` with `fresh` added: it replaces any line for the same node, and lines spent or
// expired more than kKeepSpentSeconds ago are dropped.
std::vector<EnrolEntry> WithEnrolment(std::vector<EnrolEntry> entries, EnrolEntry fresh,
                                      int64_t now);

// "90", "90s", "30m", "1h", "2d" -> seconds; 1 s .. 30 days.
Result<std::chrono::seconds> ParseTtl(std::string_view text);

}  // namespace ec::ecconfigd
