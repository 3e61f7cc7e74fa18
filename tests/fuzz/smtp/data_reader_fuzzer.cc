// Fuzzes DataReader against the naive reference models (decoding and header scan). The first
// two bytes choose the policy and where the input is cut into pieces. Invariants: the message ends
// exactly where the first real CRLF.CRLF is (never earlier: no smuggled end), the body the sink
// received equals the model's (or was discarded when over the limit), and the byte counts agree.
// BDAT mode: any chunking gives the same body as one chunk.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/check.h"
#include "mta/smtp/data_reader.h"
#include "tests/unit/mta/smtp/reference_decoder.h"

using ec::smtp::DataReader;
using ec::smtp::LineEndingPolicy;
using ec::smtp::StringBodySink;

namespace {

// The longest line of a body whose every line ends in CRLF (DATA with LineEndingPolicy::kFix).
size_t LongestLine(std::string_view body) {
  size_t longest = 0;
  for (size_t start = 0; start < body.size();) {
    const size_t crlf = body.find("\r\n", start);
    const size_t end = crlf == std::string_view::npos ? body.size() : crlf;
    longest = std::max(longest, end - start);
    start = end + 2;
  }
  return longest;
}

std::vector<size_t> Cuts(uint8_t seed, size_t size) {
  std::vector<size_t> cuts;
  if (size == 0 || seed == 0) return cuts;
  const size_t step = 1 + seed % 17;
  for (size_t i = step; i < size; i += step + (i % 3)) cuts.push_back(i);
  return cuts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const uint8_t seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const LineEndingPolicy policy =
      (flags & 1) ? LineEndingPolicy::kPedantic : LineEndingPolicy::kFix;
  const uint64_t limit = (flags & 2) ? 64 : 0;

  std::vector<size_t> ends = Cuts(seed, input.size());
  ends.push_back(input.size());

  // DATA.
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, policy, {.max_message_size = limit}, &sink);
  size_t pos = 0;
  for (size_t end : ends) {
    while (pos < end && !reader.done()) {
      const size_t used = reader.Feed(input.substr(pos, end - pos));
      EC_CHECK(used <= end - pos);
      EC_CHECK(used > 0 || reader.done());
      pos += used;
    }
    if (reader.done()) break;
  }
  EC_CHECK(reader.wire_size() == pos);
  const auto ref = ec::smtp::testing::ReferenceDecodeData(input, policy == LineEndingPolicy::kFix);
  EC_CHECK(reader.done() == ref.done);
  if (ref.done) {
    EC_CHECK(pos == ref.consumed);
    EC_CHECK(reader.content_size() == ref.body.size());
    EC_CHECK((reader.saw_bare_cr() || reader.saw_bare_lf()) == ref.bare);
    if (limit != 0 && ref.body.size() > limit) {
      EC_CHECK(reader.size_exceeded() && sink.data().empty());
    } else {
      EC_CHECK(!reader.size_exceeded());
      EC_CHECK(sink.data() == ref.body);
      EC_CHECK(reader.headers().complete);
      EC_CHECK(reader.headers().end_offset <= sink.data().size());
      // The streaming header scan agrees with the whole-buffer model.
      const auto h = ec::smtp::testing::ReferenceScanHeaders(sink.data());
      EC_CHECK(reader.headers().present == h.present);
      EC_CHECK(reader.headers().end_offset == h.end_offset);
      EC_CHECK(reader.headers().has_message_id == h.has_message_id);
      EC_CHECK(reader.headers().has_date == h.has_date);
      EC_CHECK(reader.headers().longest_line == h.longest_line);
      // Lines counted alike on the whole-line fast path and through the state machine.
      if (policy == LineEndingPolicy::kFix) {
        EC_CHECK(reader.longest_line() == LongestLine(sink.data()));
      }
    }
  } else {
    EC_CHECK(pos == input.size());
  }

  // BDAT: chunk boundaries must not matter.
  const DataReader::Mode mode =
      (flags & 4) ? DataReader::Mode::kBinary : DataReader::Mode::kChunked;
  DataReader whole, pieces;
  StringBodySink whole_sink, pieces_sink;
  whole.Begin(mode, policy, {}, &whole_sink);
  pieces.Begin(mode, policy, {}, &pieces_sink);
  EC_CHECK(whole.Feed(input) == input.size());
  whole.Finish();
  size_t start = 0;
  for (size_t end : ends) {
    EC_CHECK(pieces.Feed(input.substr(start, end - start)) == end - start);
    start = end;
  }
  pieces.Finish();
  EC_CHECK(whole_sink.data() == pieces_sink.data());
  EC_CHECK(whole.longest_line() == pieces.longest_line());
  EC_CHECK(whole.headers().end_offset == pieces.headers().end_offset);
  EC_CHECK(whole.headers().has_date == pieces.headers().has_date);
  EC_CHECK(whole.headers().has_message_id == pieces.headers().has_message_id);
  if (mode == DataReader::Mode::kBinary) EC_CHECK(whole_sink.data() == input);
  const auto h = ec::smtp::testing::ReferenceScanHeaders(whole_sink.data());
  EC_CHECK(whole.headers().end_offset == h.end_offset);
  EC_CHECK(whole.headers().has_date == h.has_date && whole.headers().present == h.present);
  return 0;
}
