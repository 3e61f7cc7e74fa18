// Fuzzes DataReader against the naive reference model. The first two bytes choose the policy
// and where the input is cut into pieces. Invariants: the message ends exactly where the first
// real CRLF.CRLF is (never earlier: no smuggled end), the body equals the model's, and the
// byte counts agree. BDAT mode: any chunking gives the same body as one chunk.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/check.h"
#include "mta/smtp/data_reader.h"
#include "tests/unit/mta/smtp/reference_decoder.h"

using ec::smtp::DataReader;
using ec::smtp::LineEndingPolicy;

namespace {

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
  reader.Begin(DataReader::Mode::kDotStuffed, policy, {.max_message_size = limit});
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
      EC_CHECK(reader.size_exceeded() && reader.body().empty());
    } else {
      EC_CHECK(!reader.size_exceeded());
      EC_CHECK(reader.body() == ref.body);
      EC_CHECK(reader.headers().complete);
      EC_CHECK(reader.headers().end_offset <= reader.body().size());
    }
  } else {
    EC_CHECK(pos == input.size());
  }

  // BDAT: chunk boundaries must not matter.
  const DataReader::Mode mode =
      (flags & 4) ? DataReader::Mode::kBinary : DataReader::Mode::kChunked;
  DataReader whole, pieces;
  whole.Begin(mode, policy, {});
  pieces.Begin(mode, policy, {});
  EC_CHECK(whole.Feed(input) == input.size());
  whole.Finish();
  size_t start = 0;
  for (size_t end : ends) {
    EC_CHECK(pieces.Feed(input.substr(start, end - start)) == end - start);
    start = end;
  }
  pieces.Finish();
  EC_CHECK(whole.body() == pieces.body());
  if (mode == DataReader::Mode::kBinary) EC_CHECK(whole.body() == input);
  return 0;
}
