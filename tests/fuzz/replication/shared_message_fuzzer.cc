// Shared-limits bus messages come from peers: decoding any bytes must end in a message or an
// error, and whatever decodes must encode back to something that decodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "replication/shared_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = ec::replication::DecodeMessage(input);
  if (!decoded.ok()) {
    EC_CHECK(decoded.status().code() == ec::StatusCode::kInvalidArgument ||
             decoded.status().code() == ec::StatusCode::kNotFound);
    return 0;
  }
  const std::string again = ec::replication::EncodeMessage(*decoded);
  EC_CHECK(again.size() <= ec::replication::kMaxMessageSize);
  auto second = ec::replication::DecodeMessage(again);
  EC_CHECK(second.ok());
  EC_CHECK(*second == *decoded);
  EC_CHECK(ec::replication::EncodeMessage(*second) == again);
  return 0;
}
