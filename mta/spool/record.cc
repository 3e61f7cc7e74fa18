#include "mta/spool/record.h"

#include <cstring>

#include "mta/spool/crc32c.h"

namespace ec::spool {
namespace {

constexpr char kSegmentMagic[8] = {'E', 'C', 'S', 'P', 'O', 'O', 'L', '1'};
// Tags of the optional envelope fields that follow the recipients.
constexpr uint8_t kTagBinding = 1;
constexpr uint8_t kTagBindingGroup = 2;

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
void PutStr(std::string* out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Bounds-checked cursor over untrusted bytes: every getter fails once the bytes run out.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool U8(uint8_t* v) {
    if (!Has(1)) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool U32(uint32_t* v) {
    if (!Has(4)) return false;
    *v = GetU32(bytes_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t* v) {
    if (!Has(8)) return false;
    *v = GetU64(bytes_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool I64(int64_t* v) {
    uint64_t u;
    if (!U64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || !Has(n)) return false;
    s->assign(bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool done() const { return pos_ == bytes_.size(); }

 private:
  bool Has(size_t n) const { return bytes_.size() - pos_ >= n; }
  std::string_view bytes_;
  size_t pos_ = 0;
};

Status Malformed(std::string_view what) {
  return InvalidArgument("malformed spool record: " + std::string(what));
}

void PutState(std::string* out, const RecipientState& s) {
  PutU8(out, static_cast<uint8_t>(s.kind));
  PutU32(out, s.retries);
  PutU64(out, static_cast<uint64_t>(s.next_attempt_us));
}
bool GetState(Reader* r, RecipientState* s) {
  uint8_t kind;
  if (!r->U8(&kind) || kind > static_cast<uint8_t>(RecipientState::Kind::kFailed)) return false;
  s->kind = static_cast<RecipientState::Kind>(kind);
  return r->U32(&s->retries) && r->I64(&s->next_attempt_us);
}
constexpr size_t kStateSize = 13;

// Writes header + meta: the header's crc covers its first 16 bytes and the meta.
void AppendRecord(RecordType type, std::string_view meta, uint32_t body_len, uint32_t body_crc,
                  std::string* out) {
  const size_t start = out->size();
  PutU32(out, kRecordMagic);
  PutU8(out, static_cast<uint8_t>(type));
  PutU8(out, kRecordVersion);
  PutU8(out, 0);
  PutU8(out, 0);
  PutU32(out, static_cast<uint32_t>(meta.size()));
  PutU32(out, body_len);
  uint32_t crc = Crc32c(0, out->data() + start, 16);
  crc = Crc32c(crc, meta.data(), meta.size());
  PutU32(out, crc);
  PutU32(out, body_crc);
  out->append(meta);
}

}  // namespace

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  PutU64(&out, header.seq);
  PutU64(&out, header.id_floor);
  PutU32(&out, 0);
  PutU32(&out, Crc32c(out));
  return out;
}

Result<SegmentHeader> DecodeSegmentHeader(std::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize) return Malformed("short segment header");
  if (std::memcmp(bytes.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return Malformed("bad segment magic");
  }
  if (Crc32c(bytes.substr(0, 28)) != GetU32(bytes.data() + 28)) {
    return Malformed("segment header checksum mismatch");
  }
  return SegmentHeader{GetU64(bytes.data() + 8), GetU64(bytes.data() + 16)};
}

void AppendMessageRecord(const MessageMeta& meta, std::string_view body, std::string* out) {
  AppendMessageRecord(meta, body.size(), Crc32c(body), out);
}

void AppendMessageRecord(const MessageMeta& meta, uint64_t body_len, uint32_t body_crc,
                         std::string* out) {
  EC_CHECK(meta.states.size() == meta.envelope.rcpts.size());
  EC_CHECK(body_len <= kMaxBodyLen);
  const Envelope& e = meta.envelope;
  std::string m;
  m.reserve(64 + e.mail_from.size() + e.client_ip.size() + e.helo.size() + e.auth_user.size() +
            e.dsn_envid.size() + e.rcpts.size() * 48);
  PutU64(&m, meta.id.value());
  PutU64(&m, static_cast<uint64_t>(e.received_us));
  PutU8(&m, static_cast<uint8_t>(e.body_type));
  PutU32(&m, e.flags);
  PutU8(&m, static_cast<uint8_t>(e.dsn_ret));
  PutStr(&m, e.mail_from);
  PutStr(&m, e.client_ip);
  PutStr(&m, e.helo);
  PutStr(&m, e.auth_user);
  PutStr(&m, e.dsn_envid);
  PutU32(&m, static_cast<uint32_t>(e.rcpts.size()));
  for (size_t i = 0; i < e.rcpts.size(); ++i) {
    PutStr(&m, e.rcpts[i].address);
    PutStr(&m, e.rcpts[i].orcpt);
    PutU8(&m, e.rcpts[i].notify);
    PutState(&m, meta.states[i]);
  }
  // Optional fields after the recipients, each a tag and a string, so records written before a
  // field existed still decode.
  if (!e.binding.empty()) {
    PutU8(&m, kTagBinding);
    PutStr(&m, e.binding);
  }
  if (!e.binding_group.empty()) {
    PutU8(&m, kTagBindingGroup);
    PutStr(&m, e.binding_group);
  }
  EC_CHECK(m.size() <= kMaxMetaLen);
  AppendRecord(RecordType::kMessage, m, static_cast<uint32_t>(body_len), body_crc, out);
}

void AppendUpdateRecord(const UpdateMeta& meta, std::string* out) {
  std::string m;
  PutU64(&m, meta.id.value());
  PutU32(&m, static_cast<uint32_t>(meta.updates.size()));
  for (const RecipientUpdate& u : meta.updates) {
    PutU32(&m, u.index);
    PutState(&m, u.state);
  }
  AppendRecord(RecordType::kUpdate, m, 0, Crc32c({}), out);
}

void AppendRemoveRecord(QueueId id, std::string* out) {
  std::string m;
  PutU64(&m, id.value());
  AppendRecord(RecordType::kRemove, m, 0, Crc32c({}), out);
}

Result<RecordHeader> DecodeRecordHeader(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderSize) return Malformed("short record header");
  const char* p = bytes.data();
  if (GetU32(p) != kRecordMagic) return Malformed("bad record magic");
  const uint8_t type = static_cast<uint8_t>(p[4]);
  if (type < static_cast<uint8_t>(RecordType::kMessage) ||
      type > static_cast<uint8_t>(RecordType::kRemove)) {
    return Malformed("unknown record type");
  }
  if (static_cast<uint8_t>(p[5]) != kRecordVersion) return Malformed("unknown record version");
  RecordHeader h;
  h.type = static_cast<RecordType>(type);
  h.meta_len = GetU32(p + 8);
  h.body_len = GetU32(p + 12);
  h.meta_crc = GetU32(p + 16);
  h.body_crc = GetU32(p + 20);
  if (h.meta_len > kMaxMetaLen || h.body_len > kMaxBodyLen) return Malformed("length too large");
  return h;
}

bool MetaCrcMatches(const RecordHeader& header, std::string_view header_bytes,
                    std::string_view meta) {
  if (header_bytes.size() < 16) return false;
  uint32_t crc = Crc32c(0, header_bytes.data(), 16);
  crc = Crc32c(crc, meta.data(), meta.size());
  return crc == header.meta_crc;
}

Result<MessageMeta> DecodeMessageMeta(std::string_view bytes) {
  Reader r(bytes);
  MessageMeta meta;
  Envelope& e = meta.envelope;
  uint64_t id;
  uint8_t body_type, dsn_ret;
  uint32_t nrcpt;
  if (!r.U64(&id) || !r.I64(&e.received_us) || !r.U8(&body_type) || !r.U32(&e.flags) ||
      !r.U8(&dsn_ret) || !r.Str(&e.mail_from) || !r.Str(&e.client_ip) || !r.Str(&e.helo) ||
      !r.Str(&e.auth_user) || !r.Str(&e.dsn_envid) || !r.U32(&nrcpt)) {
    return Malformed("truncated envelope");
  }
  if (id == 0) return Malformed("zero queue id");
  if (body_type > static_cast<uint8_t>(BodyType::kBinaryMime)) return Malformed("body type");
  if (dsn_ret > static_cast<uint8_t>(DsnRet::kHeaders)) return Malformed("dsn ret");
  meta.id = QueueId(id);
  e.body_type = static_cast<BodyType>(body_type);
  e.dsn_ret = static_cast<DsnRet>(dsn_ret);
  // Each recipient takes at least 4 + 4 + 1 + kStateSize bytes: bounds the reservation.
  if (nrcpt > r.remaining() / (9 + kStateSize)) return Malformed("recipient count");
  e.rcpts.resize(nrcpt);
  meta.states.resize(nrcpt);
  for (uint32_t i = 0; i < nrcpt; ++i) {
    if (!r.Str(&e.rcpts[i].address) || !r.Str(&e.rcpts[i].orcpt) || !r.U8(&e.rcpts[i].notify) ||
        !GetState(&r, &meta.states[i])) {
      return Malformed("truncated recipient");
    }
  }
  while (!r.done()) {
    uint8_t tag;
    std::string* field = nullptr;
    if (!r.U8(&tag)) return Malformed("truncated envelope field");
    if (tag == kTagBinding) field = &e.binding;
    if (tag == kTagBindingGroup) field = &e.binding_group;
    if (!field) return Malformed("unknown envelope field " + std::to_string(tag));
    if (!field->empty() || !r.Str(field)) return Malformed("bad envelope field");
  }
  return meta;
}

Result<UpdateMeta> DecodeUpdateMeta(std::string_view bytes) {
  Reader r(bytes);
  UpdateMeta meta;
  uint64_t id;
  uint32_t n;
  if (!r.U64(&id) || !r.U32(&n)) return Malformed("truncated update");
  if (n > r.remaining() / (4 + kStateSize)) return Malformed("update count");
  meta.id = QueueId(id);
  meta.updates.resize(n);
  for (RecipientUpdate& u : meta.updates) {
    if (!r.U32(&u.index) || !GetState(&r, &u.state)) return Malformed("truncated update");
  }
  if (!r.done()) return Malformed("trailing bytes after update");
  return meta;
}

Result<RemoveMeta> DecodeRemoveMeta(std::string_view bytes) {
  Reader r(bytes);
  uint64_t id;
  if (!r.U64(&id) || !r.done()) return Malformed("bad remove record");
  return RemoveMeta{QueueId(id)};
}

}  // namespace ec::spool
