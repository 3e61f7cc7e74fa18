// Fuzzes the health record decoder eccmgr runs on every member's report. Beyond "no crash": a
// record that decodes re-encodes to JSON that decodes to the same record.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "msgc/health_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto record = ec::msgc::ParseHealthRecord(bytes);
  if (record.ok()) {
    auto again = ec::msgc::ParseHealthRecord(ec::msgc::HealthRecordToJson(*record));
    EC_CHECK(again.ok());
    EC_CHECK(*again == *record);
  }
  return 0;
}
