#include "mta/dns/dns_answer.h"

#include <ares.h>
#include <arpa/inet.h>

#include <algorithm>
#include <memory>

namespace ec::dns {
namespace {

constexpr size_t kHeader = 12;
constexpr size_t kRecordFixed = 10;  // type, class, TTL, data length
constexpr uint16_t kClassIn = 1;

uint16_t Get16(std::string_view p, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[at]) << 8) |
                               static_cast<uint8_t>(p[at + 1]));
}

struct AresStringFree {
  void operator()(char* s) const { ares_free_string(s); }
};

// The name at `at`, expanded by c-ares and lower-cased; its length in the packet in *len.
Result<std::string> NameAt(std::string_view p, size_t at, size_t* len) {
  if (at >= p.size()) return InvalidArgument("name runs past the end of the answer");
  const auto* base = reinterpret_cast<const unsigned char*>(p.data());
  char* raw = nullptr;
  long encoded = 0;
  int rc = ares_expand_name(base + at, base, static_cast<int>(p.size()), &raw, &encoded);
  std::unique_ptr<char, AresStringFree> owned(raw);
  if (rc != ARES_SUCCESS) return InvalidArgument(std::string("bad name: ") + ares_strerror(rc));
  *len = static_cast<size_t>(encoded);
  std::string name(raw);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return name;
}

struct Record {
  std::string owner;
  uint16_t type = 0;
  uint16_t klass = 0;
  size_t data = 0;  // offset of the record data in the packet
  size_t size = 0;  // its length
};

// `count` records from `pos` into *out; stops at the first malformed one (its error).
Status ReadRecords(std::string_view p, size_t pos, uint16_t count, std::vector<Record>* out) {
  for (uint16_t i = 0; i < count; ++i) {
    size_t len = 0;
    EC_ASSIGN_OR_RETURN(std::string owner, NameAt(p, pos, &len));
    pos += len;
    if (pos + kRecordFixed > p.size()) return InvalidArgument("truncated resource record");
    Record r{std::move(owner), Get16(p, pos), Get16(p, pos + 2), pos + kRecordFixed,
             Get16(p, pos + 8)};
    pos += kRecordFixed + r.size;
    if (pos > p.size()) return InvalidArgument("record data runs past the end");
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

// The name `offset` bytes into `r`'s data; it must start and end inside the data.
Result<std::string> NameInData(std::string_view p, const Record& r, size_t offset) {
  if (offset >= r.size) return InvalidArgument("record data too short for a name");
  size_t len = 0;
  EC_ASSIGN_OR_RETURN(std::string name, NameAt(p, r.data + offset, &len));
  if (offset + len > r.size) return InvalidArgument("name runs past its record's data");
  return name;
}

bool IsType(const Record& r, RecordType type) {
  return r.klass == kClassIn && r.type == static_cast<uint16_t>(type);
}

// The question's name and the CNAME targets it leads to, in order, without loops.
std::vector<std::string> CnameChain(std::string_view p, const std::string& question,
                                    const std::vector<Record>& records) {
  std::vector<std::string> names{question};
  for (int hop = 0; hop < kMaxCnameHops; ++hop) {
    auto cname = std::find_if(records.begin(), records.end(), [&](const Record& r) {
      return IsType(r, RecordType::kCname) && r.owner == names.back();
    });
    if (cname == records.end()) break;
    auto target = NameInData(p, *cname, 0);
    if (!target.ok() || std::find(names.begin(), names.end(), *target) != names.end()) break;
    names.push_back(std::move(target).value());
  }
  return names;
}

// Adds the data of `r` (of the question's type, owned on the chain); malformed data is skipped.
void AddRecord(std::string_view p, const Record& r, DnsAnswer* a) {
  char text[INET6_ADDRSTRLEN];
  if (IsType(r, RecordType::kA) && r.size == 4) {
    inet_ntop(AF_INET, p.data() + r.data, text, sizeof text);
    a->addresses.emplace_back(text);
  } else if (IsType(r, RecordType::kAaaa) && r.size == 16) {
    inet_ntop(AF_INET6, p.data() + r.data, text, sizeof text);
    a->addresses.emplace_back(text);
  } else if (IsType(r, RecordType::kMx) && r.size >= 3) {
    auto exchange = NameInData(p, r, 2);
    if (exchange.ok()) a->mx.push_back({Get16(p, r.data), std::move(exchange).value()});
  }
}

}  // namespace

Result<DnsAnswer> ParseAnswer(std::string_view p) {
  if (p.size() < kHeader) return InvalidArgument("DNS answer shorter than its header");
  const uint16_t flags = Get16(p, 2);
  if (!(flags & 0x8000)) return InvalidArgument("not a response");
  if (Get16(p, 4) != 1) return InvalidArgument("not exactly one question");
  DnsAnswer a;
  a.truncated = flags & 0x0200;
  a.rcode = flags & 0x000f;
  size_t len = 0;
  EC_ASSIGN_OR_RETURN(a.question, NameAt(p, kHeader, &len));
  const size_t answers = kHeader + len + 4;
  if (answers > p.size()) return InvalidArgument("truncated question");
  a.question_type = Get16(p, kHeader + len);

  std::vector<Record> records;
  Status s = ReadRecords(p, answers, Get16(p, 6), &records);
  // A truncated (TC) answer may stop in the middle of a record; what came before it counts.
  if (!s.ok() && !a.truncated) return s;
  a.names = CnameChain(p, a.question, records);
  for (const Record& r : records) {
    const bool cname = IsType(r, RecordType::kCname);
    if (!cname && (r.klass != kClassIn || r.type != a.question_type)) continue;
    if (std::find(a.names.begin(), a.names.end(), r.owner) == a.names.end()) {
      ++a.foreign;
    } else if (!cname) {
      AddRecord(p, r, &a);
    }
  }
  std::stable_sort(a.mx.begin(), a.mx.end(), [](const MxRecord& x, const MxRecord& y) {
    return x.preference < y.preference;
  });
  return a;
}

bool IsUsable(const DnsAnswer& a) {
  return a.question_type == static_cast<uint16_t>(RecordType::kMx) ? !a.mx.empty()
                                                                   : !a.addresses.empty();
}

}  // namespace ec::dns
