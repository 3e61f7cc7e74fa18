// Fuzzes what recovery does with a segment file from a broken disk: the segment header decoder
// and the record scanner, which must reject anything malformed without crashing, must only hand
// out records whose bytes lie inside the input, and, resynchronising past damage, must account
// for every byte before the last whole record exactly once (a record or a skipped stretch).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/check.h"
#include "mta/spool/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec::spool;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)DecodeSegmentHeader(bytes);
  // The meta decoders directly too: behind the checksums the scanner rarely reaches them.
  if (auto m = DecodeMessageMeta(bytes); m.ok()) {
    EC_CHECK(m->states.size() == m->envelope.rcpts.size());
  }
  (void)DecodeUpdateMeta(bytes);
  (void)DecodeRemoveMeta(bytes);
  const std::string_view records =
      bytes.size() >= kSegmentHeaderSize ? bytes.substr(kSegmentHeaderSize) : bytes;
  for (bool verify : {true, false}) {
    std::vector<std::pair<uint64_t, uint64_t>> seen;  // (offset, size) of each record
    ScanResult scan = ScanRecords(records, verify, [&](ScannedRecord&& rec) {
      EC_CHECK(rec.offset + rec.header.total_size() <= records.size());
      EC_CHECK(rec.body.data() >= records.data() &&
               rec.body.data() + rec.body.size() <= records.data() + records.size());
      if (auto* m = std::get_if<MessageMeta>(&rec.meta)) {
        EC_CHECK(m->states.size() == m->envelope.rcpts.size());
      }
      seen.emplace_back(rec.offset, rec.header.total_size());
    });
    EC_CHECK(scan.valid_end <= records.size());
    EC_CHECK(scan.error.empty() == (scan.valid_end == records.size()));
    EC_CHECK(!scan.torn_tail || !scan.error.empty());
    // Records and skipped stretches, in order, tile [0, valid_end) with no gap or overlap.
    uint64_t pos = 0;
    size_t r = 0, d = 0;
    while (r < seen.size() || d < scan.damaged.size()) {
      if (d < scan.damaged.size() && scan.damaged[d].offset == pos) {
        EC_CHECK(scan.damaged[d].length > 0);
        pos += scan.damaged[d++].length;
      } else {
        EC_CHECK(r < seen.size() && seen[r].first == pos);
        pos += seen[r++].second;
      }
    }
    EC_CHECK(pos == scan.valid_end);
  }
  return 0;
}
