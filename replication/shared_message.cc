#include "replication/shared_message.h"

#include <charconv>
#include <initializer_list>
#include <set>
#include <utility>

#include "common/base/split.h"

namespace ec::replication {
namespace {

constexpr std::string_view kPrefix = "shared-";
constexpr std::string_view kReport = "shared-report 1";
constexpr std::string_view kGrants = "shared-grants 1";

// Keys and node names go on the wire as single words: printable ASCII, no space.
bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeySize) return false;
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// Decimal digits only, no sign, no leading zero (one spelling per number), no overflow.
bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status Bad(std::string why) { return InvalidArgument("bad shared-limits message: " + why); }
Status BadLine(size_t index, std::string why) {
  return Bad("line " + std::to_string(index + 1) + ": " + why);
}

// Parses fields[first..] as numbers into `outs`; false if any is not one.
bool ParseNumbers(const std::vector<std::string_view>& fields, size_t first,
                  std::initializer_list<uint64_t*> outs) {
  size_t i = first;
  for (uint64_t* out : outs) {
    if (!ParseNumber(fields[i++], out)) return false;
  }
  return true;
}

Result<Message> DecodeReport(const std::vector<std::string_view>& lines) {
  ReportMessage r;
  bool have_sent = false, have_leader = false, have_full = false;
  std::set<std::string_view> keys;
  for (size_t n = 1; n < lines.size(); ++n) {
    const std::vector<std::string_view> f = SplitFields(lines[n]);
    if (f[0] == "sent") {
      if (have_sent || f.size() != 2 || !ParseNumber(f[1], &r.sent_ms)) {
        return BadLine(n, "want one 'sent <ms>'");
      }
      have_sent = true;
    } else if (f[0] == "leader") {
      // "leader" alone: the node follows no leader yet.
      if (have_leader || f.size() > 2 || (f.size() == 2 && !ValidName(f[1]))) {
        return BadLine(n, "want one 'leader [<node>]'");
      }
      if (f.size() == 2) r.leader = std::string(f[1]);
      have_leader = true;
    } else if (f[0] == "full") {
      if (have_full || f.size() != 2 || (f[1] != "0" && f[1] != "1")) {
        return BadLine(n, "want one 'full 0|1'");
      }
      r.full = f[1] == "1";
      have_full = true;
    } else if (f[0] == "object") {
      ObjectFigures o;
      if (f.size() != 8 || !ValidName(f[1]) ||
          !ParseNumbers(f, 2,
                        {&o.limit, &o.window_ms, &o.usage, &o.demand, &o.held, &o.acked_seq})) {
        return BadLine(n,
                       "want 'object <key> <limit> <window_ms> <usage> <demand> <held> "
                       "<acked_seq>'");
      }
      if (!keys.insert(f[1]).second) return BadLine(n, "object reported twice");
      if (r.objects.size() >= kMaxObjectsPerMessage) return Bad("too many objects");
      o.key = std::string(f[1]);
      r.objects.push_back(std::move(o));
    } else {
      return BadLine(n, "not understood");
    }
  }
  if (!have_sent || !have_leader || !have_full) return Bad("report lacks sent, leader or full");
  return Message(std::move(r));
}

Result<Message> DecodeGrants(const std::vector<std::string_view>& lines) {
  GrantMessage g;
  bool have_sent = false;
  std::set<std::pair<std::string_view, std::string_view>> seen;  // (key, node)
  for (size_t n = 1; n < lines.size(); ++n) {
    const std::vector<std::string_view> f = SplitFields(lines[n]);
    if (f[0] == "sent") {
      if (have_sent || f.size() != 2 || !ParseNumber(f[1], &g.sent_ms)) {
        return BadLine(n, "want one 'sent <ms>'");
      }
      have_sent = true;
    } else if (f[0] == "grant") {
      GrantEntry e;
      if (f.size() != 5 || !ValidName(f[1]) || !ValidName(f[2]) ||
          !ParseNumbers(f, 3, {&e.units, &e.seq})) {
        return BadLine(n, "want 'grant <key> <node> <units> <seq>'");
      }
      if (!seen.insert({f[1], f[2]}).second) return BadLine(n, "grant given twice");
      if (g.grants.size() >= kMaxObjectsPerMessage) return Bad("too many grants");
      e.key = std::string(f[1]);
      e.node = std::string(f[2]);
      g.grants.push_back(std::move(e));
    } else {
      return BadLine(n, "not understood");
    }
  }
  if (!have_sent) return Bad("grants lack sent");
  return Message(std::move(g));
}

}  // namespace

std::string EncodeMessage(const Message& message) {
  std::string out;
  if (const auto* r = std::get_if<ReportMessage>(&message)) {
    out = std::string(kReport) + "\nsent " + std::to_string(r->sent_ms) + "\nleader" +
          (r->leader.empty() ? "" : " " + r->leader) + "\nfull " + (r->full ? "1" : "0") + "\n";
    for (const ObjectFigures& o : r->objects) {
      out += "object " + o.key + " " + std::to_string(o.limit) + " " + std::to_string(o.window_ms) +
             " " + std::to_string(o.usage) + " " + std::to_string(o.demand) + " " +
             std::to_string(o.held) + " " + std::to_string(o.acked_seq) + "\n";
    }
  } else {
    const auto& g = std::get<GrantMessage>(message);
    out = std::string(kGrants) + "\nsent " + std::to_string(g.sent_ms) + "\n";
    for (const GrantEntry& e : g.grants) {
      out += "grant " + e.key + " " + e.node + " " + std::to_string(e.units) + " " +
             std::to_string(e.seq) + "\n";
    }
  }
  return out;
}

Result<Message> DecodeMessage(std::string_view payload) {
  // Other users of the cluster group (DuraVIP) send their own messages: not ours, not an error.
  if (!payload.starts_with(kPrefix)) return NotFound("not a shared-limits message");
  if (payload.size() > kMaxMessageSize) {
    return Bad("larger than " + std::to_string(kMaxMessageSize) + " bytes");
  }
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < payload.size()) {
    size_t j = payload.find('\n', i);
    if (j == std::string_view::npos) return Bad("last line has no newline");
    if (j == i) return BadLine(lines.size(), "empty");
    lines.push_back(payload.substr(i, j - i));
    i = j + 1;
  }
  if (lines[0] == kReport) return DecodeReport(lines);
  if (lines[0] == kGrants) return DecodeGrants(lines);
  std::string first(lines[0].substr(0, 64));
  for (char& c : first) {
    if (c < ' ' || c > '~') c = '?';  // peer bytes go to a log line
  }
  return Bad("unknown type or version '" + first + "'");
}

std::string_view ObjectType(std::string_view key) {
  const size_t slash = key.find('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash);
}

}  // namespace ec::replication
