// The on-disk encoding of a journal (journal.h): segment files of records, and one cursor file
// per subscriber. Pure functions over bytes, no I/O, any thread. Decoders take untrusted bytes
// (a disk may hand back anything, a kill -9 may leave half a record) and never read out of
// bounds. All integers little-endian.
//
// Segment file <16 hex digits>.jseg = "ECJRNL01" | segment number u64, then records.
// Record  = magic u32 | length u32 | crc32c u32 (over the length field and the payload) | payload
// Cursor  <name>.cursor = "ECJCUR01" | segment u64 | offset u64 | crc32c u32 of the first 24
// A record counts only if its magic and checksum hold, so a torn tail is seen as the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::journal {

inline constexpr size_t kSegmentHeaderSize = 16;
inline constexpr size_t kRecordHeaderSize = 12;
inline constexpr size_t kCursorSize = 28;
inline constexpr uint32_t kRecordMagic = 0xEC10DA7A;
// One log line; far above any line the MTA writes.
inline constexpr uint32_t kMaxPayload = 1u << 20;

// Where a subscriber stands: the next record to read is at `offset` in segment `segment`.
struct Position {
  uint64_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const Position&) const = default;
};

std::string EncodeSegmentHeader(uint64_t segment);
// The segment number, or InvalidArgument.
Result<uint64_t> DecodeSegmentHeader(std::string_view bytes);

std::string EncodeRecord(std::string_view payload);

struct DecodedRecord {
  std::string_view payload;  // points into the bytes given
  size_t size;               // header + payload
};
// The record at the start of `bytes`: nullopt when there is none whole and valid there (a
// torn or corrupt tail, or simply the end).
std::optional<DecodedRecord> DecodeRecord(std::string_view bytes);
// The bytes a record of `bytes`'s header claims, or 0 if the header is not one of ours; lets a
// reader fetch a record whose header it has read but whose payload it has not.
size_t ClaimedRecordSize(std::string_view header);

std::string EncodeCursor(const Position& position);
Result<Position> DecodeCursor(std::string_view bytes);

// "<16 hex>.jseg" for a segment number, and back (nullopt for any other name).
std::string SegmentFileName(uint64_t segment);
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Subscriber names are file names: 1..64 printable ASCII, no '/', not starting with '.'
// (Momentum's "=>master" is fine).
Status ValidateSubscriberName(std::string_view name);

}  // namespace ec::journal
