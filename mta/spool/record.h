// The spool's on-disk encoding: segment headers and the records appended after them. Pure
// functions over bytes, no I/O, any thread; the decoders take untrusted bytes (a disk may hand
// back anything) and never read out of bounds, fail with InvalidArgument instead.
//
// Segment file  = SegmentHeader (32 bytes) followed by records, all integers little-endian.
// SegmentHeader = "ECSPOOL1" | seq u64 | id_floor u64 | reserved u32 | crc32c of the first 28
// Record        = header (24 bytes) | meta (meta_len bytes) | body (body_len bytes)
// Record header = magic u32 | type u8 | version u8 | reserved u16 | meta_len u32 | body_len u32
//                 | meta_crc u32 (crc32c over header bytes 0..16 and the meta) | body_crc u32
// A record is valid only if both checksums match, so a torn or partly written record is seen as
// invalid. The scanner (record_scan.cc) then finds where whole records resume, see ScanRecords.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/base/status.h"
#include "mta/spool/envelope.h"
#include "mta/spool/queue_id.h"

namespace ec::spool {

inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 24;
inline constexpr uint32_t kRecordMagic = 0xEC5B00C5;
inline constexpr uint8_t kRecordVersion = 1;
// Bounds the decoder trusts before allocating; far above anything the SMTP side accepts.
inline constexpr uint32_t kMaxMetaLen = 16u << 20;
inline constexpr uint32_t kMaxBodyLen = 1u << 30;

enum class RecordType : uint8_t { kMessage = 1, kUpdate = 2, kRemove = 3 };

struct SegmentHeader {
  uint64_t seq = 0;       // segment number, also in the file name
  uint64_t id_floor = 0;  // every queue id issued before this segment was made is <= this

  bool operator==(const SegmentHeader&) const = default;
};

struct RecordHeader {
  RecordType type = RecordType::kMessage;
  uint32_t meta_len = 0;
  uint32_t body_len = 0;
  uint32_t meta_crc = 0;
  uint32_t body_crc = 0;

  size_t total_size() const { return kRecordHeaderSize + size_t{meta_len} + body_len; }
};

struct MessageMeta {
  QueueId id;
  Envelope envelope;
  std::vector<RecipientState> states;  // one per envelope recipient
};

struct UpdateMeta {
  QueueId id;
  std::vector<RecipientUpdate> updates;
};

struct RemoveMeta {
  QueueId id;
};

// --- encoding ---
std::string EncodeSegmentHeader(const SegmentHeader& header);
// Appends the record header and meta of a message to `out`; the body is written right after it
// by the caller (so it is never copied), and only its checksum is taken here.
void AppendMessageRecord(const MessageMeta& meta, std::string_view body, std::string* out);
// The same for a body that is not in memory: its length and CRC-32C are given.
void AppendMessageRecord(const MessageMeta& meta, uint64_t body_len, uint32_t body_crc,
                         std::string* out);
void AppendUpdateRecord(const UpdateMeta& meta, std::string* out);
void AppendRemoveRecord(QueueId id, std::string* out);

// --- decoding ---
Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes);
// Parses and bounds-checks the first kRecordHeaderSize bytes (magic, type, version, lengths).
Result<RecordHeader> DecodeRecordHeader(std::string_view bytes);
// True if `meta_crc` matches the header bytes and `meta`.
bool MetaCrcMatches(const RecordHeader& header, std::string_view header_bytes,
                    std::string_view meta);
Result<MessageMeta> DecodeMessageMeta(std::string_view meta);
Result<UpdateMeta> DecodeUpdateMeta(std::string_view meta);
Result<RemoveMeta> DecodeRemoveMeta(std::string_view meta);

// One valid record found by ScanRecords. `body` views the scanned bytes.
struct ScannedRecord {
  uint64_t offset = 0;  // of the record header, from the start of the scanned bytes
  RecordHeader header;
  std::variant<MessageMeta, UpdateMeta, RemoveMeta> meta;
  std::string_view body;
};

// A stretch of bytes between whole records that ScanRecords skipped.
struct DamagedRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string reason;  // what was wrong at `offset`
};

struct ScanResult {
  uint64_t valid_end = 0;  // end of the last whole record; no whole record starts after it
  std::vector<DamagedRange> damaged;  // skipped stretches before valid_end, in order
  std::string error;  // why the bytes from valid_end on are not records; empty if there are none
  // Those bytes are what a crash mid-append leaves (one record cut short, or zeros), not damage.
  bool torn_tail = false;
};

// Walks the records in `bytes` (a segment without its header) in order and calls `visit` for
// each whole, valid one. At a torn, corrupt or unknown record it finds where whole records
// resume: after the record's own extent when its header is confirmed (by the meta checksum, as
// stored or with one bit corrected) or when a whole record (or the end) follows that extent;
// otherwise at the next offset where a whole record passes both checksums. A confirmed header is
// never looked inside, so a record-shaped body is not taken for a record. With `verify_bodies`
// false the body checksum of records read in order is not computed (the caller knows the data
// was synced and will check the body when it reads it); records found by the search always are.
// The work spent searching is bounded by a small multiple of the input size.
ScanResult ScanRecords(std::string_view bytes, bool verify_bodies,
                       const std::function<void(ScannedRecord&&)>& visit);

}  // namespace ec::spool
