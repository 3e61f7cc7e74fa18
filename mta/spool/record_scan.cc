// ScanRecords: reads a segment's records in order and, past a damaged one, finds where whole
// records resume (docs/spool.md, "Recovery"). Pure function over bytes, any thread.
#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "mta/spool/crc32c.h"
#include "mta/spool/record.h"

namespace ec::spool {
namespace {

// Checksum work a scan may spend on candidates (header corrections, records tried at other
// offsets), on top of reading each byte once: bounds recovery whatever a segment holds.
constexpr uint64_t kSearchSlackBytes = 1u << 20;
// One-bit header corrections are tried only for metas up to this size (real ones are a few
// hundred bytes); each try checksums the meta.
constexpr uint32_t kMaxCorrectedMeta = 64u << 10;
constexpr size_t kChecksummedHeader = 16;  // header bytes the meta checksum covers

constexpr char kMagicBytes[4] = {
    static_cast<char>(kRecordMagic & 0xFF), static_cast<char>((kRecordMagic >> 8) & 0xFF),
    static_cast<char>((kRecordMagic >> 16) & 0xFF), static_cast<char>(kRecordMagic >> 24)};

Status Bad(std::string why) { return InvalidArgument(std::move(why)); }

// What a crash mid-append leaves: the start of one record, cut before its meta could be
// checked, or zeros (space the file grew by before its data reached the disk).
bool LooksTorn(std::string_view rest) {
  if (std::all_of(rest.begin(), rest.end(), [](char c) { return c == 0; })) return true;
  const size_t n = std::min(rest.size(), sizeof kMagicBytes);
  if (rest.substr(0, n) != std::string_view(kMagicBytes, n)) return false;
  if (rest.size() < kRecordHeaderSize) return true;
  auto header = DecodeRecordHeader(rest);
  return header.ok() && kRecordHeaderSize + uint64_t{header->meta_len} > rest.size();
}

class Scanner {
 public:
  explicit Scanner(std::string_view bytes)
      : bytes_(bytes), budget_(2 * uint64_t{bytes.size()} + kSearchSlackBytes) {}

  // The whole, valid record at `pos`, or why there is none. A `candidate`'s checksums count
  // against the budget, and fail once it is spent.
  Result<ScannedRecord> Parse(uint64_t pos, bool verify_body, bool candidate);

  struct Resume {
    uint64_t at = 0;    // where the next whole record starts; the end if none does
    bool torn = false;  // at the end: the bytes from the bad record on are an ordinary torn tail
  };
  // Where whole records resume after the bad record at `pos`.
  Resume After(uint64_t pos);
  bool exhausted() const { return exhausted_; }

 private:
  bool Charge(uint64_t n) {
    if (n > budget_) exhausted_ = true;
    if (exhausted_) return false;
    budget_ -= n;
    return true;
  }
  // The size of the record at the start of `rest` if its header is confirmed by the meta
  // checksum, as stored or with one bit of the header (or of the checksum) corrected.
  std::optional<uint64_t> ConfirmedSize(std::string_view rest, bool* corrected);

  std::string_view bytes_;
  uint64_t budget_;
  bool exhausted_ = false;
};

Result<ScannedRecord> Scanner::Parse(uint64_t pos, bool verify_body, bool candidate) {
  const std::string_view rest = bytes_.substr(pos);
  EC_ASSIGN_OR_RETURN(RecordHeader header, DecodeRecordHeader(rest));
  if (rest.size() < header.total_size()) return Bad("record runs past end of file (torn)");
  const std::string_view meta = rest.substr(kRecordHeaderSize, header.meta_len);
  const std::string_view body = rest.substr(kRecordHeaderSize + header.meta_len, header.body_len);
  if (candidate && !Charge(header.meta_len)) return Bad("search work bound reached");
  if (!MetaCrcMatches(header, rest, meta)) return Bad("meta checksum mismatch");
  if (verify_body || header.body_len == 0) {
    if (candidate && !Charge(header.body_len)) return Bad("search work bound reached");
    if (Crc32c(body) != header.body_crc) return Bad("body checksum mismatch");
  }
  ScannedRecord rec;
  rec.offset = pos;
  rec.header = header;
  rec.body = body;
  switch (header.type) {
    case RecordType::kMessage: {
      EC_ASSIGN_OR_RETURN(rec.meta, DecodeMessageMeta(meta));
      break;
    }
    case RecordType::kUpdate: {
      EC_ASSIGN_OR_RETURN(rec.meta, DecodeUpdateMeta(meta));
      break;
    }
    case RecordType::kRemove: {
      EC_ASSIGN_OR_RETURN(rec.meta, DecodeRemoveMeta(meta));
      break;
    }
  }
  return rec;
}

std::optional<uint64_t> Scanner::ConfirmedSize(std::string_view rest, bool* corrected) {
  char head[kRecordHeaderSize];
  std::memcpy(head, rest.data(), sizeof head);
  // The header `head` decoded, with the checksum of its first bytes and the meta it names.
  struct Checked {
    RecordHeader header;
    uint32_t crc = 0;
  };
  auto check = [&](uint32_t max_meta) -> std::optional<Checked> {
    auto header = DecodeRecordHeader(std::string_view(head, sizeof head));
    if (!header.ok() || header->meta_len > max_meta ||
        kRecordHeaderSize + uint64_t{header->meta_len} > rest.size() ||
        !Charge(kChecksummedHeader + header->meta_len)) {
      return std::nullopt;
    }
    uint32_t crc = Crc32c(0, head, kChecksummedHeader);
    return Checked{*header, Crc32c(crc, rest.data() + kRecordHeaderSize, header->meta_len)};
  };
  if (auto c = check(kMaxMetaLen)) {
    const uint32_t diff = c->crc ^ c->header.meta_crc;
    *corrected = diff != 0;
    // Equal, or one flipped bit in the stored checksum itself.
    if (std::popcount(diff) <= 1) return c->header.total_size();
  }
  *corrected = true;
  for (size_t bit = 0; bit < kChecksummedHeader * 8 && !exhausted_; ++bit) {
    const char mask = static_cast<char>(1u << (bit % 8));
    head[bit / 8] ^= mask;
    auto c = check(kMaxCorrectedMeta);
    head[bit / 8] ^= mask;
    if (c && c->crc == c->header.meta_crc) return c->header.total_size();
  }
  return std::nullopt;
}

Scanner::Resume Scanner::After(uint64_t pos) {
  const uint64_t end = bytes_.size();
  const std::string_view rest = bytes_.substr(pos);
  if (rest.size() < kRecordHeaderSize) return {end, LooksTorn(rest)};
  bool corrected = false;
  if (auto size = ConfirmedSize(rest, &corrected)) {
    // The header is sound, so the damage is inside this record: skip exactly it. Its body is
    // never searched, so a body holding a record-shaped attachment cannot invent a message.
    if (*size <= rest.size()) return {pos + *size, false};
    return {end, !corrected};  // a sound header whose record the end of the file cuts: torn
  }
  // The lengths as stored, when a whole record (or the end) follows: the meta was damaged.
  if (auto header = DecodeRecordHeader(rest); header.ok() && header->total_size() <= rest.size()) {
    const uint64_t next = pos + header->total_size();
    if (next == end || Parse(next, true, true).ok()) return {next, false};
  }
  // The header itself is lost: the next offset where a whole record passes both checksums.
  const std::string_view magic(kMagicBytes, sizeof kMagicBytes);
  for (size_t at = bytes_.find(magic, pos + 1); at != std::string_view::npos && !exhausted_;
       at = bytes_.find(magic, at + 1)) {
    if (Parse(at, true, true).ok()) return {at, false};
  }
  return {end, !exhausted_ && LooksTorn(rest)};
}

}  // namespace

ScanResult ScanRecords(std::string_view bytes, bool verify_bodies,
                       const std::function<void(ScannedRecord&&)>& visit) {
  Scanner scanner(bytes);
  ScanResult result;
  uint64_t pos = 0;
  while (pos < bytes.size()) {
    auto rec = scanner.Parse(pos, verify_bodies, /*candidate=*/false);
    if (rec.ok()) {
      pos += rec->header.total_size();
      result.valid_end = pos;
      visit(std::move(rec).value());
      continue;
    }
    std::string why = rec.status().message();
    const Scanner::Resume next = scanner.After(pos);
    if (next.at < bytes.size()) {
      result.damaged.push_back(DamagedRange{pos, next.at - pos, std::move(why)});
      pos = next.at;
      continue;
    }
    // No whole record follows: the tail starts where the last one ended, and takes along the
    // stretches skipped since (then it is damage, not an ordinary torn tail).
    bool torn = next.torn;
    while (!result.damaged.empty() && result.damaged.back().offset >= result.valid_end) {
      why = std::move(result.damaged.back().reason);
      result.damaged.pop_back();
      torn = false;
    }
    if (scanner.exhausted()) why += "; stopped searching for whole records (work bound reached)";
    result.error = "offset " + std::to_string(result.valid_end) + ": " + why;
    result.torn_tail = torn;
    break;
  }
  return result;
}

}  // namespace ec::spool
