// The text of a `journal read` answer: the records a node ships to the manager, each with the
// journal position it starts at and the one to acknowledge after it. Records are
// length-prefixed, so a payload may hold any byte. Decoding takes untrusted text (whatever
// answers on the port) and fails cleanly on anything malformed. Pure functions, any thread.
//
//   batch <count>\n
//   <segment> <offset> <next segment> <next offset> <length>\n<payload>\n     (count times)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "mta/journal/journal.h"

namespace ec::logship {

// The largest batch a node sends and a manager accepts (the control protocol allows more).
inline constexpr size_t kMaxBatchBytes = 4u << 20;

struct ShippedRecord {
  journal::Position position;
  journal::Position next;
  std::string payload;
};

std::string EncodeBatch(const std::vector<journal::Entry>& entries);
Result<std::vector<ShippedRecord>> DecodeBatch(std::string_view text);

}  // namespace ec::logship
