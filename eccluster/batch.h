// The text of a `journal read` answer on the ECCluster channel: the records a node ships to the
// manager, each with the journal position it starts at and the one to acknowledge after it.
// Records are length-prefixed, so a payload may hold any byte. Decoding takes untrusted text
// (whatever answers on the port) and fails cleanly on anything malformed. Positions are this
// library's own (the MTA's journal converts), so nothing here depends on the MTA.
// Pure functions, any thread.
//
//   batch <count>\n
//   <segment> <offset> <next segment> <next offset> <length>\n<payload>\n     (count times)
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::eccluster {

// The largest batch a node sends and a manager accepts.
inline constexpr size_t kMaxBatchBytes = 4u << 20;

// A place in a node's journal: the record at `offset` of segment `segment`.
struct JournalPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const JournalPosition&) const = default;
};

struct ShippedRecord {
  JournalPosition position;  // where the record starts
  JournalPosition next;      // what to acknowledge once it is held
  std::string payload;
};

std::string EncodeBatch(const std::vector<ShippedRecord>& records);
Result<std::vector<ShippedRecord>> DecodeBatch(std::string_view text);

}  // namespace ec::eccluster
