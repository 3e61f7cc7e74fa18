// Fuzzes the HTTP request head ecconfigd parses from any client before checking credentials:
// nothing it accepts may carry a CR, LF or NUL in a header value or two framing headers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "ecconfigd/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto head = ec::ecconfigd::ParseHttpRequestHead(input);
  if (!head.ok()) return 0;
  EC_CHECK(head->headers.size() <= ec::ecconfigd::kMaxHeaderFields);
  EC_CHECK(!head->target.empty() && head->target[0] == '/');
  EC_CHECK(!(head->chunked && head->content_length));
  for (const auto& [name, value] : head->headers) {
    EC_CHECK(value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    EC_CHECK(!name.empty());
  }
  return 0;
}
