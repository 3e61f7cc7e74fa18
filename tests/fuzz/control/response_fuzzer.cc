// Fuzzes the console client's response parser with arbitrary server bytes, and checks that
// every well-formed response survives an encode/parse round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "common/control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  {
    ec::control::ResponseParser parser;
    const size_t chunk = size == 0 ? 1 : 1 + data[0] % 32;
    for (size_t pos = 0; pos < input.size(); pos += chunk) {
      parser.Append(input.substr(pos, chunk));
      bool failed = false;
      for (int i = 0; i < 1000; ++i) {
        auto response = parser.Pop();
        if (!response.ok()) {
          failed = true;
          break;
        }
        if (!*response) break;
        EC_CHECK((*response)->text.size() <= ec::control::kMaxResponseBody);
      }
      if (failed) break;
    }
  }
  // Round trip: whatever text a handler returns reaches the client intact (plus the newline).
  ec::control::Response sent{size % 2 == 0, std::string(input)};
  ec::control::ResponseParser parser;
  parser.Append(ec::control::EncodeResponse(sent));
  auto got = parser.Pop();
  EC_CHECK(got.ok() && got->has_value());
  EC_CHECK((*got)->ok == sent.ok);
  std::string expected = sent.text;
  if (!expected.empty() && expected.back() != '\n') expected.push_back('\n');
  EC_CHECK((*got)->text == expected);
  return 0;
}
