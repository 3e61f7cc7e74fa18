// A deliberately naive, whole-buffer model of DATA decoding, used as the oracle for DataReader
// in unit tests and in the fuzz target. It states the rules directly:
//  - the message ends at the first "\r\n.\r\n" of "\r\n" + input (a real CRLF, a dot, a CRLF);
//  - lines are split on real CRLF only; a line starting with "." loses that dot unless the next
//    byte is CR or LF;
//  - with fix, any CR not followed by LF and any LF not preceded by CR becomes CRLF.
#pragma once

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

}  // namespace ec::smtp::testing
