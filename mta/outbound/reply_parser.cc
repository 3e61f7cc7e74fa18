#include "mta/outbound/reply_parser.h"

#include <cctype>

namespace ec::outbound {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "d.d{1,3}.d{1,3}" followed by a space or the end, class 2, 4 or 5.
size_t EnhancedLength(std::string_view text) {
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    size_t start = i;
    while (i < text.size() && IsDigit(text[i]) && i - start < 3) ++i;
    if (i == start) return 0;
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return 0;
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') return 0;
  return i;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string ServerReply::ToString() const {
  std::string out = std::to_string(code);
  for (size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? " " : " / ";
    out += lines[i];
  }
  if (lines.empty() && !enhanced.empty()) out += " " + enhanced;
  return out;
}

ReplyParse ParseReply(std::string_view input, ServerReply* reply, size_t* consumed,
                      std::string* error) {
  ServerReply r;
  size_t pos = 0;
  while (true) {
    size_t eol = input.find('\n', pos);
    if (eol == std::string_view::npos) {
      if (input.size() - pos > kMaxReplyLine) {
        *error = "reply line longer than " + std::to_string(kMaxReplyLine) + " bytes";
        return ReplyParse::kError;
      }
      return ReplyParse::kNeedMore;
    }
    std::string_view line = input.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxReplyLine) {
      *error = "reply line longer than " + std::to_string(kMaxReplyLine) + " bytes";
      return ReplyParse::kError;
    }
    pos = eol + 1;
    if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2]) ||
        line[0] < '2' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
      *error = "malformed reply line \"" + std::string(line.substr(0, 64)) + "\"";
      return ReplyParse::kError;
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r.lines.empty()) {
      r.code = code;
    } else if (code != r.code) {
      *error = "reply code changed inside a multi-line reply (" + std::to_string(r.code) +
               " then " + std::to_string(code) + ")";
      return ReplyParse::kError;
    }
    if (r.lines.size() >= kMaxReplyLines) {
      *error = "reply has more than " + std::to_string(kMaxReplyLines) + " lines";
      return ReplyParse::kError;
    }
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
    if (r.lines.empty()) {
      size_t n = EnhancedLength(text);
      if (n > 0 && text[0] == line[0]) {
        r.enhanced = std::string(text.substr(0, n));
        text.remove_prefix(n < text.size() ? n + 1 : n);
      }
    }
    r.lines.emplace_back(text);
    if (line.size() == 3 || line[3] == ' ') break;
  }
  *reply = std::move(r);
  *consumed = pos;
  return ReplyParse::kComplete;
}

Extensions ParseExtensions(const ServerReply& ehlo_reply) {
  Extensions e;
  // The first line is the server's greeting name; extensions follow.
  for (size_t i = 1; i < ehlo_reply.lines.size(); ++i) {
    std::string_view line = ehlo_reply.lines[i];
    size_t sp = line.find(' ');
    std::string keyword = Upper(line.substr(0, sp));
    if (keyword == "PIPELINING") e.pipelining = true;
    else if (keyword == "STARTTLS") e.starttls = true;
    else if (keyword == "8BITMIME") e.eightbitmime = true;
    else if (keyword == "ENHANCEDSTATUSCODES") e.enhanced_status_codes = true;
    else if (keyword == "SMTPUTF8") e.smtputf8 = true;
    else if (keyword == "DSN") e.dsn = true;
    else if (keyword == "SIZE" && sp != std::string_view::npos) {
      uint64_t v = 0;
      bool ok = true;
      for (char c : line.substr(sp + 1)) {
        if (!IsDigit(c) || v > (UINT64_MAX - 9) / 10) {
          ok = false;
          break;
        }
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      if (ok) e.size = v;
    }
  }
  return e;
}

}  // namespace ec::outbound
