// Fuzzes the DNS response parser with whole packets. Invariants: no crash or over-read (ASan),
// names within 255 octets, MX records sorted by preference.
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "mta/dns/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ec::dns::ParseResponse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  EC_CHECK(r->question.size() <= 255);
  for (size_t i = 0; i < r->mx.size(); ++i) {
    EC_CHECK(r->mx[i].exchange.size() <= 255);
    if (i > 0) EC_CHECK(r->mx[i - 1].preference <= r->mx[i].preference);
  }
  return 0;
}
