// DuraVIP bus messages come from peers: decoding any bytes must end in a message or an error,
// and whatever decodes must encode back to something that decodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "duravip/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = ec::duravip::DecodeMessage(input);
  if (!decoded.ok()) return 0;
  const std::string again = ec::duravip::EncodeMessage(*decoded);
  auto second = ec::duravip::DecodeMessage(again);
  EC_CHECK(second.ok());
  EC_CHECK(ec::duravip::EncodeMessage(*second) == again);
  return 0;
}
