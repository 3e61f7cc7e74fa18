#include "msgc/health_record.h"

#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace ec::msgc {
namespace {

constexpr size_t kMaxStringLength = 4096;
constexpr size_t kMaxArrayItems = 1024;

// A recursive-descent reader for the flat subset we accept. Every method fails with a message
// naming the byte offset; nothing is allocated beyond the input's size.
class JsonReader {
 public:
  explicit JsonReader(std::string_view in) : in_(in) {}

  void SkipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < in_.size() && in_[pos_] == c;
  }
  Status Expect(char c) {
    if (!Peek(c)) return Error(std::string("expected '") + c + "'");
    ++pos_;
    return Status::Ok();
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == in_.size();
  }

  Result<std::string> String() {
    EC_RETURN_IF_ERROR(Expect('"'));
    std::string out;
    while (true) {
      if (pos_ >= in_.size()) return Error("unterminated string");
      char c = in_[pos_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in string");
      if (c == '\\') {
        if (pos_ >= in_.size()) return Error("unterminated escape");
        char e = in_[pos_++];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            if (pos_ + 4 > in_.size()) return Error("short \\u escape");
            unsigned v = 0;
            for (int i = 0; i < 4; ++i) {
              char h = in_[pos_++];
              v <<= 4;
              if (h >= '0' && h <= '9')
                v |= h - '0';
              else if (h >= 'a' && h <= 'f')
                v |= h - 'a' + 10;
              else if (h >= 'A' && h <= 'F')
                v |= h - 'A' + 10;
              else
                return Error("bad \\u escape");
            }
            // Names and states are ASCII; anything else is kept as '?' rather than decoded.
            out += v < 0x80 ? static_cast<char>(v) : '?';
            break;
          }
          default:
            return Error("bad escape");
        }
      } else {
        out += c;
      }
      if (out.size() > kMaxStringLength) return Error("string too long");
    }
    return out;
  }

  Result<uint64_t> Unsigned() {
    SkipSpace();
    size_t start = pos_;
    uint64_t v = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      const uint64_t digit = in_[pos_] - '0';
      if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
        return Error("number out of range");
      }
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return Error("expected an unsigned integer");
    if (pos_ - start > 1 && in_[start] == '0') return Error("leading zero");
    if (pos_ < in_.size() && (in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) {
      return Error("expected an unsigned integer");
    }
    return v;
  }

  Result<std::vector<std::string>> StringArray() {
    EC_RETURN_IF_ERROR(Expect('['));
    std::vector<std::string> out;
    if (Peek(']')) {
      ++pos_;
      return out;
    }
    while (true) {
      if (out.size() >= kMaxArrayItems) return Error("array too long");
      EC_ASSIGN_OR_RETURN(std::string s, String());
      out.push_back(std::move(s));
      if (Peek(',')) {
        ++pos_;
        continue;
      }
      EC_RETURN_IF_ERROR(Expect(']'));
      return out;
    }
  }

  // Skips a value of an unknown key: only the same flat kinds, plus true/false/null.
  Status SkipValue() {
    SkipSpace();
    if (Peek('"')) return String().status();
    if (Peek('[')) return StringArray().status();
    for (std::string_view word : {"true", "false", "null"}) {
      if (in_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return Status::Ok();
      }
    }
    return Unsigned().status();
  }

  Status Error(const std::string& what) const {
    return InvalidArgument("health record: " + what + " at offset " + std::to_string(pos_));
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

void AppendField(std::string* out, std::string_view key, std::string_view json_value) {
  if (out->size() > 1) *out += ',';
  *out += JsonQuote(key);
  *out += ':';
  *out += json_value;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string HealthRecordToJson(const HealthRecord& r) {
  std::string out = "{";
  auto num = [&out](std::string_view key, uint64_t v) {
    AppendField(&out, key, std::to_string(v));
  };
  auto str = [&out](std::string_view key, std::string_view v) {
    AppendField(&out, key, JsonQuote(v));
  };
  str("member", r.member);
  str("role", r.role);
  str("endpoint", r.endpoint);
  num("incarnation", r.incarnation);
  str("state", r.state);
  num("view_id", r.view_id);
  num("view_stable_ms", r.view_stable_ms);
  num("members_known", r.members_known);
  num("members_alive", r.members_alive);
  num("peers_connected", r.peers_connected);
  auto list = [&out](std::string_view key, const std::vector<std::string>& items) {
    std::string text = "[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) text += ',';
      text += JsonQuote(items[i]);
    }
    text += ']';
    AppendField(&out, key, text);
  };
  list("unhealthy", r.unhealthy);
  num("received", r.received);
  num("delivered", r.delivered);
  num("failed", r.failed);
  num("queue_size", r.queue_size);
  list("duravips", r.duravips);
  num("duravip_takeovers", r.duravip_takeovers);
  if (!r.config_revision.empty()) str("config_revision", r.config_revision);
  num("time", r.time);
  out += '}';
  return out;
}

Result<HealthRecord> ParseHealthRecord(std::string_view json) {
  if (json.size() > kMaxHealthRecordSize) {
    return InvalidArgument("health record: " + std::to_string(json.size()) +
                           " bytes, over the limit of " + std::to_string(kMaxHealthRecordSize));
  }
  HealthRecord r;
  const std::map<std::string_view, std::string*> strings = {
      {"member", &r.member}, {"role", &r.role}, {"endpoint", &r.endpoint}, {"state", &r.state},
      {"config_revision", &r.config_revision}};
  const std::map<std::string_view, uint64_t*> numbers = {{"incarnation", &r.incarnation},
                                                         {"view_id", &r.view_id},
                                                         {"view_stable_ms", &r.view_stable_ms},
                                                         {"members_known", &r.members_known},
                                                         {"members_alive", &r.members_alive},
                                                         {"peers_connected", &r.peers_connected},
                                                         {"received", &r.received},
                                                         {"delivered", &r.delivered},
                                                         {"failed", &r.failed},
                                                         {"queue_size", &r.queue_size},
                                                         {"duravip_takeovers",
                                                          &r.duravip_takeovers},
                                                         {"time", &r.time}};
  JsonReader in(json);
  std::set<std::string> seen;
  EC_RETURN_IF_ERROR(in.Expect('{'));
  if (!in.Peek('}')) {
    while (true) {
      EC_ASSIGN_OR_RETURN(std::string key, in.String());
      if (!seen.insert(key).second) return in.Error("duplicate key \"" + key + "\"");
      EC_RETURN_IF_ERROR(in.Expect(':'));
      if (auto s = strings.find(key); s != strings.end()) {
        EC_ASSIGN_OR_RETURN(*s->second, in.String());
      } else if (auto n = numbers.find(key); n != numbers.end()) {
        EC_ASSIGN_OR_RETURN(*n->second, in.Unsigned());
      } else if (key == "unhealthy") {
        EC_ASSIGN_OR_RETURN(r.unhealthy, in.StringArray());
      } else if (key == "duravips") {
        EC_ASSIGN_OR_RETURN(r.duravips, in.StringArray());
      } else {
        EC_RETURN_IF_ERROR(in.SkipValue());
      }
      if (in.Peek(',')) {
        EC_RETURN_IF_ERROR(in.Expect(','));
        continue;
      }
      break;
    }
  }
  EC_RETURN_IF_ERROR(in.Expect('}'));
  if (!in.AtEnd()) return in.Error("trailing data");
  if (r.member.empty()) return InvalidArgument("health record: no member");
  return r;
}

}  // namespace ec::msgc
