// The enrolment requests as pure parsers of untrusted bytes (fuzzed by
// tests/fuzz/cfgrepo/enrol_fuzzer.cc). Besides the /config/ routes of protocol.h, ecconfigd
// answers:
//   GET  /clone/<node>?token=<token>     200 application/gzip: the clone package (a tar.gz of
//        etc/cluster.boot and etc/ecconfigd.crt); the token stays valid
//   POST /enrol/<node>                   Authorization: Bearer <token>
//        body: the node's CURVE public key (40 Z85 characters, one line)
//        200, body: the cluster fetch secret (one line); the token is spent
//   401 bad, spent, expired or another node's token (with the reason); 429 throttled, as logins.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::ecconfigd {

struct EnrolTarget {
  enum class Kind { kClone, kEnrol };
  Kind kind = Kind::kClone;
  std::string node;
  std::string token;  // clone: from ?token=; enrol: empty (it comes in Authorization)
};

// True for targets under /clone/ or /enrol/ (they are not /config/ requests).
bool IsEnrolTarget(std::string_view uri);
Result<EnrolTarget> ParseEnrolTarget(std::string_view uri);
// The enrol body: one Z85 CURVE public key (40 characters), optionally ending in a newline.
Result<std::string> ParseEnrolBody(std::string_view body);
// The Host header a clone request came with, as the repo= of the node's cluster.boot:
// "name", "name:port", "a.b.c.d:port" or "[v6]:port"; no port: 2027 is eccfg's default anyway.
Result<std::string> ParseHostHeader(std::string_view host);

}  // namespace ec::ecconfigd
