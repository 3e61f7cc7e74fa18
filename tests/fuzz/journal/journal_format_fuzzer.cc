// Fuzzes the journal decoders (mta/journal/journal_format.h) with what a disk could hand back:
// records are decoded one after another as a segment scan does, a decoded record re-encodes to
// the same bytes, and cursor, segment-header and file-name decoders never read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mta/journal/journal_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec::journal;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string_view rest = bytes;
  while (auto record = DecodeRecord(rest)) {
    if (record->size == 0 || record->size > rest.size()) std::abort();
    if (EncodeRecord(record->payload) != rest.substr(0, record->size)) std::abort();
    rest.remove_prefix(record->size);
  }
  (void)ClaimedRecordSize(bytes);
  if (auto cursor = DecodeCursor(bytes); cursor.ok()) {
    if (EncodeCursor(*cursor) != bytes) std::abort();
  }
  (void)DecodeSegmentHeader(bytes);
  (void)ParseSegmentFileName(bytes);
  (void)ValidateSubscriberName(bytes);
  return 0;
}
