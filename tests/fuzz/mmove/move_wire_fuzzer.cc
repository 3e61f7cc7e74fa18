// The #mmove parsers on arbitrary input: never crash, and whatever they accept re-encodes to
// the same thing. The first byte picks the parser: even, a command line; odd, a payload (and
// the same bytes as a reply).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mta/mmove/move_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto c = ec::mmove::ParseLine(text);
    if (!c.ok()) return 0;
    auto again = ec::mmove::ParseLine(ec::mmove::EncodeCommand(*c));
    if (!again.ok() || !(*again == *c)) std::abort();
    return 0;
  }
  if (auto r = ec::mmove::ParseReply(text); r.ok()) {
    auto again = ec::mmove::ParseReply(ec::mmove::EncodeReply(*r));
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  auto m = ec::mmove::DecodePayload(text);
  if (!m.ok()) return 0;
  auto again = ec::mmove::DecodePayload(ec::mmove::EncodePayload(m->meta, m->body));
  if (!again.ok() || !(again->meta.envelope == m->meta.envelope) || again->body != m->body) {
    std::abort();
  }
  return 0;
}
