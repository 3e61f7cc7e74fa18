// Fuzzes everything ecconfigd and eccfg parse from the network: the request target and the
// credentials headers (server side), the HTTP response framing (client side). The first byte
// picks the parser; the rest is the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ecconfigd/git_handles.h"
#include "ecconfigd/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace ec::ecconfigd;
  switch (data[0] % 5) {
    case 0: {
      auto target = ParseRequestTarget(input);
      if (target.ok()) {
        EC_CHECK(ValidSubclusterName(target->subcluster));
        for (const auto& [k, v] : target->params) (void)ParseOid(v);
      }
      break;
    }
    case 1: {
      auto creds = ParseBasicAuth(input);
      // What we format we must parse back.
      if (creds.ok()) {
        auto again = ParseBasicAuth(FormatBasicAuth(*creds));
        EC_CHECK(again.ok() && again->user == creds->user && again->password == creds->password);
      }
      break;
    }
    case 2:
      (void)ParseBearer(input);
      break;
    case 3: {
      auto decoded = Base64Decode(input);
      if (decoded.ok()) EC_CHECK(Base64Decode(Base64Encode(*decoded)).value() == *decoded);
      break;
    }
    case 4: {
      auto response = ParseHttpResponse(input);
      if (response.ok()) EC_CHECK(response->status >= 100 && response->status <= 599);
      break;
    }
  }
  return 0;
}
