// Fuzzes the DNS-over-TCP stream reader with the bytes a server might send, fed in chunks whose
// sizes come from the input too, and parses every message it yields. Invariants: no crash or
// over-read (ASan); the frames plus what stays buffered are exactly the input; the reader never
// holds more than one partial message plus the last chunk.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "mta/dns/dns_message.h"
#include "mta/dns/dns_tcp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the chunk size (1..256): reads that split prefixes and messages.
  const size_t chunk = static_cast<size_t>(data[0]) + 1;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  ec::dns::TcpFrameReader reader;
  std::string rebuilt;
  for (size_t at = 0; at < in.size(); at += chunk) {
    std::string_view piece = in.substr(at, chunk);
    reader.Append(piece);
    EC_CHECK(reader.buffered() <= 2 + 0xffff + piece.size());
    while (auto message = reader.Next()) {
      auto framed = ec::dns::FrameForTcp(*message);
      EC_CHECK(framed.ok());
      rebuilt += *framed;
      auto r = ec::dns::ParseResponse(*message);
      if (r.ok()) EC_CHECK(r->question.size() <= 255);
    }
  }
  EC_CHECK(rebuilt.size() + reader.buffered() == in.size());
  EC_CHECK(in.substr(0, rebuilt.size()) == rebuilt);
  return 0;
}
