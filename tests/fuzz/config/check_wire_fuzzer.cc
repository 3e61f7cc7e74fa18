// The frames of `ecmta --check-config-server` on arbitrary bytes, fed in arbitrary pieces:
// never crash, never buffer past a frame's cap, and whatever parses re-encodes to the same.
// The first byte picks requests (even) or replies (odd) and the piece size.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/config/check_wire.h"

namespace {

template <typename Pop, typename Encode>
void Drain(std::string_view bytes, size_t piece, Pop pop, Encode encode) {
  ec::config::CheckFrameParser parser;
  while (true) {
    const size_t n = bytes.size() < piece ? bytes.size() : piece;
    parser.Append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    while (true) {
      auto frame = pop(parser);
      if (!frame.ok()) return;  // not this protocol: the stream is dropped
      if (!frame->has_value()) break;
      ec::config::CheckFrameParser again;
      again.Append(encode(**frame));
      auto back = pop(again);
      if (!back.ok() || !back->has_value() || !(**back == **frame)) std::abort();
    }
    if (bytes.empty()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] / 2;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    Drain(bytes, piece, [](ec::config::CheckFrameParser& p) { return p.PopRequest(); },
          [](const ec::config::CheckRequest& r) {
            auto encoded = ec::config::EncodeCheckRequest(r);
            if (!encoded.ok()) std::abort();  // what parsed holds no NUL and fits
            return *encoded;
          });
  } else {
    Drain(bytes, piece, [](ec::config::CheckFrameParser& p) { return p.PopReply(); },
          [](const ec::config::CheckReply& r) { return ec::config::EncodeCheckReply(r); });
  }
  return 0;
}
