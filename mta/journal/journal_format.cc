#include "mta/journal/journal_format.h"

#include <cstring>

#include "mta/spool/crc32c.h"

namespace ec::journal {
namespace {

constexpr char kSegmentMagic[] = "ECJRNL01";
constexpr char kCursorMagic[] = "ECJCUR01";

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint64_t GetU64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

std::string EncodeSegmentHeader(uint64_t segment) {
  std::string out(kSegmentMagic, 8);
  PutU64(&out, segment);
  return out;
}

Result<uint64_t> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize ||
      bytes.substr(0, 8) != std::string_view(kSegmentMagic, 8)) {
    return InvalidArgument("not a journal segment");
  }
  return GetU64(bytes, 8);
}

std::string EncodeRecord(std::string_view payload) {
  std::string out;
  out.reserve(kRecordHeaderSize + payload.size());
  PutU32(&out, kRecordMagic);
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  uint32_t crc = spool::Crc32c(0, out.data() + 4, 4);
  crc = spool::Crc32c(crc, payload.data(), payload.size());
  PutU32(&out, crc);
  out.append(payload);
  return out;
}

size_t ClaimedRecordSize(std::string_view header) {
  if (header.size() < kRecordHeaderSize || GetU32(header, 0) != kRecordMagic) return 0;
  uint32_t length = GetU32(header, 4);
  if (length > kMaxPayload) return 0;
  return kRecordHeaderSize + length;
}

std::optional<DecodedRecord> DecodeRecord(std::string_view bytes) {
  size_t size = ClaimedRecordSize(bytes);
  if (size == 0 || bytes.size() < size) return std::nullopt;
  uint32_t crc = spool::Crc32c(0, bytes.data() + 4, 4);
  crc = spool::Crc32c(crc, bytes.data() + kRecordHeaderSize, size - kRecordHeaderSize);
  if (crc != GetU32(bytes, 8)) return std::nullopt;
  return DecodedRecord{bytes.substr(kRecordHeaderSize, size - kRecordHeaderSize), size};
}

std::string EncodeCursor(const Position& position) {
  std::string out(kCursorMagic, 8);
  PutU64(&out, position.segment);
  PutU64(&out, position.offset);
  PutU32(&out, spool::Crc32c(out));
  return out;
}

Result<Position> DecodeCursor(std::string_view bytes) {
  if (bytes.size() != kCursorSize || bytes.substr(0, 8) != std::string_view(kCursorMagic, 8) ||
      spool::Crc32c(bytes.substr(0, 24)) != GetU32(bytes, 24)) {
    return InvalidArgument("not a journal cursor");
  }
  return Position{GetU64(bytes, 8), GetU64(bytes, 16)};
}

std::string SegmentFileName(uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.jseg", static_cast<unsigned long long>(segment));
  return name;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != 21 || name.substr(16) != ".jseg") return std::nullopt;
  uint64_t v = 0;
  for (char c : name.substr(0, 16)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

Status ValidateSubscriberName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') {
    return InvalidArgument("bad subscriber name '" + std::string(name) +
                           "' (1..64 characters, not starting with '.')");
  }
  for (char c : name) {
    if (c <= ' ' || c > '~' || c == '/') {
      return InvalidArgument("bad subscriber name '" + std::string(name) +
                             "' (printable ASCII without spaces or '/')");
    }
  }
  return Status::Ok();
}

}  // namespace ec::journal
