// DnsAnswer: our records from the bytes of one DNS answer, after c-ares has matched it to our
// query (same id, same question, from the server asked). Only records that answer the question
// count: of its type, and owned by its name or by a name its CNAME chain leads to (followed
// whatever the order of the records, at most kMaxCnameHops). Records of that type, and CNAMEs,
// owned by any other name are counted as foreign and never used. c-ares' own MX parser does not
// look at owners, hence this one walk for every type. The bytes come from the network: names are
// expanded by c-ares (bounded, loop-safe), every length is checked. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "mta/dns/resolver.h"

namespace ec::dns {

enum class RecordType : uint16_t { kA = 1, kCname = 5, kMx = 15, kAaaa = 28 };

inline constexpr int kMaxCnameHops = 8;

struct DnsAnswer {
  int rcode = 0;           // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...
  bool truncated = false;  // TC: the answer did not fit
  std::string question;    // lower-case, no trailing dot
  uint16_t question_type = 0;
  std::vector<std::string> names;      // the question's name, then each CNAME target from it
  std::vector<MxRecord> mx;            // for an MX question: sorted by preference
  std::vector<std::string> addresses;  // for an A or AAAA question: as text
  int foreign = 0;  // records of the question's type, or CNAMEs, owned by a name not in `names`
};

// kInvalidArgument for anything that is not a well-formed response with one question. A truncated
// (TC) answer may end in the middle of a record: it parses to the records before that point.
Result<DnsAnswer> ParseAnswer(std::string_view packet);

// True when `a` holds records of its question's type.
bool IsUsable(const DnsAnswer& a);

}  // namespace ec::dns
