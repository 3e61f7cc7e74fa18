// Fuzzes what the control server does with a client's bytes before a handler runs: line framing
// (limits, CR LF, partial reads) and the longest-phrase command lookup. The first byte picks
// the read size, so the same stream is also split at awkward places.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "common/control/commands.h"
#include "common/control/protocol.h"

namespace {

const ec::control::CommandRegistry& Registry() {
  static const auto* registry = [] {
    auto* r = new ec::control::CommandRegistry();
    auto noop = [](const ec::control::Request&, ec::control::Reply reply) { reply.Ok(""); };
    for (const char* phrase :
         {"help", "version", "quit", "summary", "config reload", "show cluster membership",
          "show cluster", "broadcast", "unicast", "cluster duravip show"}) {
      EC_CHECK(r->Register(phrase, "", noop).ok());
    }
    return r;
  }();
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kMaxLine = 256;
  const size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ec::control::RequestFramer framer(kMaxLine);
  std::string line;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    framer.Append(input.substr(pos, chunk));
    for (;;) {
      auto next = framer.Pop(&line);
      if (next == ec::control::RequestFramer::Next::kTooLong) return 0;  // session closes
      if (next == ec::control::RequestFramer::Next::kNeedMore) break;
      EC_CHECK(line.size() <= kMaxLine);
      EC_CHECK(line.find('\n') == std::string::npos);
      auto match = Registry().Find(line);
      if (!match) continue;
      const auto& request = match->request;
      EC_CHECK(!request.command.empty());
      EC_CHECK(request.args.size() <= line.size());
      EC_CHECK(request.args.empty() == request.arg_words.empty());
      for (const std::string& word : request.arg_words) {
        EC_CHECK(request.args.find(word) != std::string::npos);
      }
    }
    EC_CHECK(framer.buffered() <= kMaxLine + chunk);
  }
  return 0;
}
