// A deliberately naive, whole-buffer model of DATA decoding, used as the oracle for DataReader
// in unit tests and in the fuzz target. It states the rules directly:
//  - the message ends at the first "\r\n.\r\n" of "\r\n" + input (a real CRLF, a dot, a CRLF);
//  - lines are split on real CRLF only; a line starting with "." loses that dot unless the next
//    byte is CR or LF;
//  - with fix, any CR not followed by LF and any LF not preceded by CR becomes CRLF.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace ec::smtp::testing {

struct ReferenceResult {
  bool done = false;
  size_t consumed = 0;  // input used, terminator included (only when done)
  std::string body;     // decoded message (only when done)
  bool bare = false;    // a bare CR or LF occurred in the message
};

inline ReferenceResult ReferenceDecodeData(std::string_view input, bool fix) {
  ReferenceResult r;
  const std::string s = "\r\n" + std::string(input);
  const size_t e = s.find("\r\n.\r\n");
  if (e == std::string::npos) return r;
  r.done = true;
  r.consumed = e + 3;
  const std::string_view raw = input.substr(0, e);  // ends with the last line's CRLF
  size_t start = 0;
  while (start < raw.size()) {
    size_t crlf = raw.find("\r\n", start);
    std::string_view line = raw.substr(start, crlf - start);
    if (!line.empty() && line[0] == '.' && line.size() > 1 && line[1] != '\r' && line[1] != '\n') {
      line.remove_prefix(1);
    }
    for (char c : line) {
      if (c == '\r' || c == '\n') {
        r.bare = true;
        r.body += fix ? std::string("\r\n") : std::string(1, c);
      } else {
        r.body += c;
      }
    }
    r.body += "\r\n";
    start = crlf + 2;
  }
  return r;
}

// The header scan of a decoded message, stated directly on the whole buffer: lines end at
// CRLF, or at a lone CR or LF (kept as such by pedantic and binary decoding); the header
// section ends at the first empty line (after it), at the first line that is neither a field
// ("name:" with a name of printable ASCII but ":") nor a continuation (leading blank, not
// allowed first), or at the end of the message.
struct ReferenceHeaders {
  bool present = false;
  size_t end_offset = 0;
  bool has_message_id = false;
  bool has_date = false;
  size_t longest_line = 0;
};

inline ReferenceHeaders ReferenceScanHeaders(std::string_view body) {
  ReferenceHeaders h;
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    return out;
  };
  size_t pos = 0;
  bool first = true;
  while (pos < body.size()) {
    size_t end = pos;
    while (end < body.size() && body[end] != '\r' && body[end] != '\n') ++end;
    const std::string_view line = body.substr(pos, end - pos);
    size_t next = end;
    if (end < body.size())
      next += (body[end] == '\r' && end + 1 < body.size() && body[end + 1] == '\n') ? 2 : 1;
    if (line.empty()) {
      h.end_offset = next;
      return h;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (first) {
        h.end_offset = pos;
        return h;
      }
    } else {
      const size_t colon = line.find(':');
      bool field = colon != std::string_view::npos && colon > 0;
      for (size_t i = 0; field && i < colon; ++i) {
        field =
            static_cast<unsigned char>(line[i]) >= 33 && static_cast<unsigned char>(line[i]) <= 126;
      }
      if (!field) {
        h.end_offset = pos;
        return h;
      }
      h.present = true;
      const std::string name = lower(line.substr(0, colon));
      h.has_message_id = h.has_message_id || name == "message-id";
      h.has_date = h.has_date || name == "date";
    }
    h.longest_line = std::max(h.longest_line, line.size());
    first = false;
    pos = next;
  }
  h.end_offset = body.size();
  return h;
}

}  // namespace ec::smtp::testing
