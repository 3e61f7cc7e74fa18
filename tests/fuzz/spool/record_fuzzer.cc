// Fuzzes what recovery does with a segment file from a broken disk: the segment header decoder
// and the record scanner, which must reject anything malformed without crashing, and must only
// hand out records whose bytes lie inside the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

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
    ScanResult scan = ScanRecords(records, verify, [&](ScannedRecord&& rec) {
      EC_CHECK(rec.offset + rec.header.total_size() <= records.size());
      EC_CHECK(rec.body.data() >= records.data() &&
               rec.body.data() + rec.body.size() <= records.data() + records.size());
      if (auto* m = std::get_if<MessageMeta>(&rec.meta)) {
        EC_CHECK(m->states.size() == m->envelope.rcpts.size());
      }
    });
    EC_CHECK(scan.valid_end <= records.size());
    EC_CHECK(scan.error.empty() == (scan.valid_end == records.size()));
  }
  return 0;
}
