// Fuzzes the bus frame decoder and the group-list decoder with arbitrary peer bytes. Beyond "no
// crash", it checks the format is canonical: whatever decodes re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "msgc/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto frame = ec::msgc::Decode(bytes);
  if (frame.ok()) {
    auto again = ec::msgc::Encode(*frame);
    EC_CHECK(again.ok());
    EC_CHECK(*again == bytes);
  }
  auto groups = ec::msgc::DecodeGroupList(bytes);
  if (groups.ok()) {
    auto again = ec::msgc::EncodeGroupList(*groups);
    EC_CHECK(again.ok());
    EC_CHECK(*again == bytes);
  }
  return 0;
}
