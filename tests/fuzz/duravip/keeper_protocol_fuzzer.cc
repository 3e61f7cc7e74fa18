// The keeper's line codec takes bytes from the other process: whatever arrives must end in a
// request or an `err` reply, never a crash. The first byte picks how the stream is split into
// reads; every line then goes through LineReader, ParseRequest (round trip), ParseReply (round
// trip) and a Keeper over a FakePlumber, whose reply must be one parsable, bounded line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "common/log/logger.h"
#include "duravip/keeper.h"
#include "duravip/keeper_protocol.h"
#include "duravip/plumber.h"

namespace {

using ec::duravip::KeeperReply;
using ec::duravip::LineReader;

void CheckLine(ec::duravip::Keeper* keeper, const std::string& line,
               ec::duravip::Keeper::Clock::time_point now) {
  auto request = ec::duravip::ParseRequest(line);
  if (request.ok()) {
    const std::string again = ec::duravip::FormatRequest(*request);
    auto second = ec::duravip::ParseRequest(again);
    EC_CHECK(second.ok());
    EC_CHECK(*second == *request);
  }
  auto reply = ec::duravip::ParseReply(line);
  if (reply.ok()) {
    const std::string again = ec::duravip::FormatReply(*reply);
    auto second = ec::duravip::ParseReply(again);
    EC_CHECK(second.ok());
    EC_CHECK(ec::duravip::FormatReply(*second) == again);
  }
  const std::string answer = keeper->Handle(line, now);
  EC_CHECK(answer.find('\n') == std::string::npos);
  EC_CHECK(answer.size() <= ec::duravip::kMaxReplyLine);
  EC_CHECK(ec::duravip::ParseReply(answer).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    ec::log::Logger::Global().SetLevel(ec::log::Level::kError);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  const bool expire_midway = (data[0] & 0x80) != 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  ec::duravip::FakePlumber plumber;
  ec::duravip::Keeper keeper(&plumber);
  auto now = ec::duravip::Keeper::Clock::time_point() + std::chrono::hours(1);
  LineReader reader(ec::duravip::kMaxRequestLine);
  std::string line;
  for (size_t pos = 0; pos < input.size(); pos += chunk) {
    reader.Append(input.substr(pos, chunk));
    for (;;) {
      const LineReader::Next next = reader.Pop(&line);
      if (next == LineReader::Next::kNeedMore) break;
      now += std::chrono::milliseconds(7);
      if (next == LineReader::Next::kTooLong) {
        EC_CHECK(ec::duravip::ParseReply(keeper.HandleTooLong(now)).ok());
        continue;
      }
      EC_CHECK(line.size() <= ec::duravip::kMaxRequestLine);
      EC_CHECK(line.find('\n') == std::string::npos);
      CheckLine(&keeper, line, now);
    }
    EC_CHECK(reader.buffered() <= ec::duravip::kMaxRequestLine + 1 + chunk);
    if (expire_midway && pos == 0) keeper.Expire();
  }
  // Whatever happened, the end leaves nothing behind.
  EC_CHECK(keeper.RemoveAll("fuzz end").ok());
  EC_CHECK(keeper.held().empty());
  EC_CHECK(plumber.addresses().empty());
  return 0;
}
