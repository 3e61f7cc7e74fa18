// DNS wire format (RFC 1035), just what outbound routing needs: a query for one name and type,
// and the MX/A/AAAA records of a response. Responses come from the network, so the parser
// treats every byte as hostile: bounded name lengths, bounded compression jumps, no read past
// the end. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "mta/dns/resolver.h"

namespace ec::dns {

enum class RecordType : uint16_t { kA = 1, kCname = 5, kMx = 15, kAaaa = 28 };

// The query packet (recursion desired). Fails on a name that cannot be encoded.
Result<std::string> BuildQuery(uint16_t id, std::string_view name, RecordType type);

struct DnsResponse {
  uint16_t id = 0;
  int rcode = 0;           // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...
  bool truncated = false;  // TC: the answer did not fit (UDP's 512 bytes)
  std::string question;    // lower-case, no trailing dot
  uint16_t question_type = 0;
  std::vector<MxRecord> mx;
  std::vector<std::string> addresses;  // A and AAAA as text
  uint32_t min_ttl = UINT32_MAX;
};

// kInvalidArgument for anything that is not a well-formed response. A truncated (TC) response
// may end in the middle of a record: it parses to the records before that point.
Result<DnsResponse> ParseResponse(std::string_view packet);

// True when `r` holds records of the kind a query of `type` asks for (MX, or addresses).
bool IsUsable(const DnsResponse& r, RecordType type);

}  // namespace ec::dns
