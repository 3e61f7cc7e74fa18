// Fuzzes ParseAnswer (our records from the bytes of a DNS answer, names expanded by c-ares) with
// whole packets. Invariants: no crash or over-read (ASan); the chain starts at the question, has
// no repeats and at most kMaxCnameHops links; MX records sorted by preference; addresses only
// for an A or AAAA question, each a valid literal of that family.
#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "mta/dns/dns_answer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto a = ec::dns::ParseAnswer(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!a.ok()) return 0;
  EC_CHECK(!a->names.empty() && a->names[0] == a->question);
  EC_CHECK(a->names.size() <= static_cast<size_t>(ec::dns::kMaxCnameHops) + 1);
  for (size_t i = 0; i < a->names.size(); ++i) {
    EC_CHECK(std::count(a->names.begin(), a->names.end(), a->names[i]) == 1);
  }
  EC_CHECK(a->foreign >= 0);
  for (size_t i = 1; i < a->mx.size(); ++i) {
    EC_CHECK(a->mx[i - 1].preference <= a->mx[i].preference);
  }
  const bool v4 = a->question_type == static_cast<uint16_t>(ec::dns::RecordType::kA);
  const bool v6 = a->question_type == static_cast<uint16_t>(ec::dns::RecordType::kAaaa);
  EC_CHECK(a->mx.empty() || a->question_type == static_cast<uint16_t>(ec::dns::RecordType::kMx));
  EC_CHECK(a->addresses.empty() || v4 || v6);
  unsigned char buf[16];
  for (const std::string& ip : a->addresses) {
    EC_CHECK(inet_pton(v4 ? AF_INET : AF_INET6, ip.c_str(), buf) == 1);
  }
  return 0;
}
