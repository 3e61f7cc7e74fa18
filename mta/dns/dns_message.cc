#include "mta/dns/dns_message.h"

#include <arpa/inet.h>

#include <algorithm>

namespace ec::dns {
namespace {

constexpr size_t kHeader = 12;
constexpr int kMaxJumps = 32;

uint16_t Get16(std::string_view p, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[at]) << 8) |
                               static_cast<uint8_t>(p[at + 1]));
}

uint32_t Get32(std::string_view p, size_t at) {
  return (static_cast<uint32_t>(Get16(p, at)) << 16) | Get16(p, at + 2);
}

void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

// Reads a possibly compressed name at *pos; advances *pos past it in the record.
Status ReadName(std::string_view p, size_t* pos, std::string* name) {
  name->clear();
  size_t at = *pos;
  bool jumped = false;
  int jumps = 0;
  while (true) {
    if (at >= p.size()) return InvalidArgument("name runs past the end of the packet");
    uint8_t len = static_cast<uint8_t>(p[at]);
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= p.size()) return InvalidArgument("truncated compression pointer");
      if (++jumps > kMaxJumps) return InvalidArgument("compression loop");
      size_t target = Get16(p, at) & 0x3fff;
      if (!jumped) *pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if (len & 0xc0) return InvalidArgument("unsupported label type");
    if (len == 0) {
      if (!jumped) *pos = at + 1;
      break;
    }
    if (at + 1 + len > p.size()) return InvalidArgument("label runs past the end of the packet");
    if (!name->empty()) name->push_back('.');
    for (size_t i = 0; i < len; ++i) {
      char c = p[at + 1 + i];
      name->push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    if (name->size() > 255) return InvalidArgument("name longer than 255 octets");
    at += 1 + len;
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> BuildQuery(uint16_t id, std::string_view name, RecordType type) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) {
    return InvalidArgument("cannot look up \"" + std::string(name) + "\"");
  }
  std::string q;
  Put16(&q, id);
  Put16(&q, 0x0100);  // RD
  Put16(&q, 1);
  Put16(&q, 0);
  Put16(&q, 0);
  Put16(&q, 0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    size_t len = dot - start;
    if (len == 0 || len > 63) return InvalidArgument("bad label in \"" + std::string(name) + "\"");
    q.push_back(static_cast<char>(len));
    q.append(name.substr(start, len));
    start = dot + 1;
  }
  q.push_back('\0');
  Put16(&q, static_cast<uint16_t>(type));
  Put16(&q, 1);  // IN
  return q;
}

namespace {

// The question and answer sections after the header, into *r. On an error *r keeps every
// record read before it.
Status ParseSections(std::string_view p, DnsResponse* r) {
  uint16_t qd = Get16(p, 4), an = Get16(p, 6);
  size_t pos = kHeader;
  for (uint16_t i = 0; i < qd; ++i) {
    std::string name;
    EC_RETURN_IF_ERROR(ReadName(p, &pos, &name));
    if (pos + 4 > p.size()) return InvalidArgument("truncated question");
    if (i == 0) {
      r->question = name;
      r->question_type = Get16(p, pos);
    }
    pos += 4;
  }
  for (uint16_t i = 0; i < an; ++i) {
    std::string owner;
    EC_RETURN_IF_ERROR(ReadName(p, &pos, &owner));
    if (pos + 10 > p.size()) return InvalidArgument("truncated resource record");
    uint16_t type = Get16(p, pos);
    uint16_t klass = Get16(p, pos + 2);
    uint32_t ttl = Get32(p, pos + 4);
    uint16_t rdlen = Get16(p, pos + 8);
    pos += 10;
    if (pos + rdlen > p.size()) return InvalidArgument("record data runs past the end");
    size_t rd = pos;
    pos += rdlen;
    if (klass != 1) continue;
    if (type == static_cast<uint16_t>(RecordType::kA) && rdlen == 4) {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, p.data() + rd, buf, sizeof buf);
      r->addresses.emplace_back(buf);
    } else if (type == static_cast<uint16_t>(RecordType::kAaaa) && rdlen == 16) {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(AF_INET6, p.data() + rd, buf, sizeof buf);
      r->addresses.emplace_back(buf);
    } else if (type == static_cast<uint16_t>(RecordType::kMx) && rdlen >= 3) {
      MxRecord mx;
      mx.preference = Get16(p, rd);
      size_t at = rd + 2;
      EC_RETURN_IF_ERROR(ReadName(p.substr(0, rd + rdlen), &at, &mx.exchange));
      r->mx.push_back(std::move(mx));
    } else {
      continue;
    }
    r->min_ttl = std::min(r->min_ttl, ttl);
  }
  return Status::Ok();
}

}  // namespace

Result<DnsResponse> ParseResponse(std::string_view p) {
  if (p.size() < kHeader) return InvalidArgument("DNS packet shorter than its header");
  DnsResponse r;
  r.id = Get16(p, 0);
  uint16_t flags = Get16(p, 2);
  if (!(flags & 0x8000)) return InvalidArgument("not a response");
  r.truncated = flags & 0x0200;
  r.rcode = flags & 0x000f;
  Status s = ParseSections(p, &r);
  // A truncated (TC) answer may stop in the middle of a record; what came before it counts.
  if (!s.ok() && !r.truncated) return s;
  std::stable_sort(r.mx.begin(), r.mx.end(), [](const MxRecord& a, const MxRecord& b) {
    return a.preference < b.preference;
  });
  return r;
}

bool IsUsable(const DnsResponse& r, RecordType type) {
  return type == RecordType::kMx ? !r.mx.empty() : !r.addresses.empty();
}

}  // namespace ec::dns
