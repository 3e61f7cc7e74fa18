// DataReader: the streaming decoder of a message body sent with DATA (dot-stuffed, ended by
// <CR><LF>.<CR><LF>) or BDAT (raw chunks). It is the SMTP smuggling defence: the message ends
// ONLY on a real CRLF "." CRLF; a bare CR or bare LF never starts a line, so <LF>.<LF>,
// <CR>.<CR>, <LF>.<CR><LF>, <CR><LF>.<LF> ... stay inside the message. Bare CR/LF are either
// repaired to CRLF (kFix) or passed through and flagged so the session refuses the message
// after its real end (kPedantic). Input may be split anywhere; the body is built in one string
// with bulk copies (memchr between line ends). It also counts sizes and line lengths and scans
// the header section (end of headers, Message-ID:, Date:).
// Owned by one ServerSession; single thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ec::smtp {

enum class LineEndingPolicy {
  kFix,       // bare CR or LF becomes CRLF (rfc2822_lone_lf_in_body = fix; "ignore" maps here)
  kPedantic,  // kept as is, flagged; the session rejects the message (550 5.6.0)
};

struct HeaderInfo {
  bool complete = false;  // an empty line (or a non-header line, or the end) was seen
  bool present = false;   // at least one header field line
  size_t end_offset = 0;  // offset in the body where the header section ends (after the
                          // empty line if there was one)
  bool has_message_id = false;
  bool has_date = false;
  size_t longest_line = 0;  // octets, without CRLF
};

class DataReader {
 public:
  enum class Mode {
    kDotStuffed,  // DATA
    kChunked,     // BDAT with 7BIT/8BITMIME: line endings checked like DATA, no dot handling
    kBinary,      // BDAT with BINARYMIME: bytes kept verbatim, nothing flagged
  };
  struct Limits {
    uint64_t max_message_size = 0;      // body octets kept; 0 = unlimited
    size_t max_line_length = 0;         // octets without CRLF; 0 = unlimited
    size_t max_header_line_length = 0;  // ditto, for header lines
  };

  // Starts a new message. `size_hint` (declared SIZE=) pre-sizes the buffer, capped by the limit.
  void Begin(Mode mode, LineEndingPolicy policy, const Limits& limits, uint64_t size_hint = 0);
  // Consumes input. In kDotStuffed it stops right after the terminating "." line and returns
  // how much it used; otherwise it uses everything.
  size_t Feed(std::string_view input);
  // kChunked/kBinary: the last chunk ended (a pending CR is resolved as bare).
  void Finish();
  bool done() const { return state_ == State::kDone; }

  // The decoded message (dot-stuffing undone, CRLF line ends). Empty if the size was exceeded.
  const std::string& body() const { return body_; }
  std::string TakeBody() { return std::move(body_); }
  // Octets of decoded content, counted even after the limit was passed.
  uint64_t content_size() const { return content_size_; }
  // Octets consumed from the wire, terminator included.
  uint64_t wire_size() const { return wire_size_; }
  bool size_exceeded() const { return size_exceeded_; }
  bool saw_bare_cr() const { return bare_cr_; }
  bool saw_bare_lf() const { return bare_lf_; }
  bool line_too_long() const { return line_too_long_; }
  bool header_line_too_long() const { return header_line_too_long_; }
  size_t longest_line() const { return longest_line_; }
  const HeaderInfo& headers() const { return headers_; }

 private:
  enum class State { kLineStart, kText, kCr, kDot, kDotCr, kDone };

  void Emit(const char* data, size_t n);
  // A line ended with a real CRLF (crlf=true) or a bare CR/LF (`bare` is the byte).
  void EndLine(bool real_crlf, char bare);
  void CheckLine();
  void EndHeaders(size_t offset);

  Mode mode_ = Mode::kDotStuffed;
  LineEndingPolicy policy_ = LineEndingPolicy::kFix;
  Limits limits_;
  State state_ = State::kDone;
  std::string body_;
  uint64_t content_size_ = 0;
  uint64_t wire_size_ = 0;
  size_t line_len_ = 0;    // content octets of the current line
  size_t line_start_ = 0;  // offset of the current line in body_
  bool discarding_ = false;
  bool size_exceeded_ = false;
  bool bare_cr_ = false;
  bool bare_lf_ = false;
  bool line_too_long_ = false;
  bool header_line_too_long_ = false;
  size_t longest_line_ = 0;
  bool in_headers_ = true;
  bool first_line_ = true;
  bool blank_line_ends_headers_ = false;
  HeaderInfo headers_;
};

}  // namespace ec::smtp
