#include "eccluster/batch.h"

#include <charconv>

namespace ec::eccluster {
namespace {

// Reads one decimal field ended by `end` from the front of `text`.
bool TakeNumber(std::string_view& text, char end, uint64_t* out) {
  size_t stop = text.find(end);
  if (stop == std::string_view::npos || stop == 0 || stop > 20) return false;
  std::string_view digits = text.substr(0, stop);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return false;
  text.remove_prefix(stop + 1);
  return true;
}

}  // namespace

std::string EncodeBatch(const std::vector<ShippedRecord>& records) {
  std::string out = "batch " + std::to_string(records.size()) + "\n";
  for (const ShippedRecord& e : records) {
    out += std::to_string(e.position.segment) + ' ' + std::to_string(e.position.offset) + ' ' +
           std::to_string(e.next.segment) + ' ' + std::to_string(e.next.offset) + ' ' +
           std::to_string(e.payload.size()) + '\n';
    out += e.payload;
    out += '\n';
  }
  return out;
}

Result<std::vector<ShippedRecord>> DecodeBatch(std::string_view text) {
  if (text.size() > kMaxBatchBytes) return InvalidArgument("journal batch too large");
  if (text.substr(0, 6) != "batch ") return InvalidArgument("journal batch: no 'batch' header");
  text.remove_prefix(6);
  uint64_t count = 0;
  if (!TakeNumber(text, '\n', &count)) return InvalidArgument("journal batch: bad record count");
  std::vector<ShippedRecord> out;
  for (uint64_t i = 0; i < count; ++i) {
    ShippedRecord r;
    uint64_t length = 0;
    if (!TakeNumber(text, ' ', &r.position.segment) || !TakeNumber(text, ' ', &r.position.offset) ||
        !TakeNumber(text, ' ', &r.next.segment) || !TakeNumber(text, ' ', &r.next.offset) ||
        !TakeNumber(text, '\n', &length)) {
      return InvalidArgument("journal batch: bad header of record " + std::to_string(i + 1));
    }
    if (length >= text.size() || text[length] != '\n') {
      return InvalidArgument("journal batch: record " + std::to_string(i + 1) + " is truncated");
    }
    if (!(r.position < r.next)) {
      return InvalidArgument("journal batch: record " + std::to_string(i + 1) +
                             " does not move forward");
    }
    if (!out.empty() && r.position < out.back().next) {
      return InvalidArgument("journal batch: record " + std::to_string(i + 1) + " goes back");
    }
    r.payload.assign(text.substr(0, length));
    text.remove_prefix(length + 1);
    out.push_back(std::move(r));
  }
  if (!text.empty()) return InvalidArgument("journal batch: trailing bytes after the records");
  return out;
}

}  // namespace ec::eccluster
