// DecodeBatch on arbitrary bytes: never crashes, and whatever it accepts re-encodes to the
// same records (positions strictly forward).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "eccluster/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = ec::eccluster::DecodeBatch(text);
  if (!records.ok()) return 0;
  for (const auto& r : *records) {
    if (!(r.position < r.next)) std::abort();
  }
  auto again = ec::eccluster::DecodeBatch(ec::eccluster::EncodeBatch(*records));
  if (!again.ok() || again->size() != records->size()) std::abort();
  return 0;
}
