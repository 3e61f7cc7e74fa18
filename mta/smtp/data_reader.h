// DataReader: the streaming decoder of a message body sent with DATA (dot-stuffed, ended by
// <CR><LF>.<CR><LF>) or BDAT (raw chunks). It is the SMTP smuggling defence: the message ends
// ONLY on a real CRLF "." CRLF; a bare CR or bare LF never starts a line, so <LF>.<LF>,
// <CR>.<CR>, <LF>.<CR><LF>, <CR><LF>.<LF> ... stay inside the message. Bare CR/LF are either
// repaired to CRLF (kFix) or passed through and flagged so the session refuses the message
// after its real end (kPedantic). Input may be split anywhere; the decoded message goes to a
// BodySink in bulk pieces (memchr between line ends) as it arrives, so the reader itself holds
// a few dozen bytes whatever the message size. It also counts sizes and line lengths and scans
// the header section (end of headers, Message-ID:, Date:) without keeping any line.
// Owned by one ServerSession; single thread. The sink is borrowed for one message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ec::smtp {

enum class LineEndingPolicy {
  kFix,       // bare CR or LF becomes CRLF (rfc2822_lone_lf_in_body = fix; "ignore" maps here)
  kPedantic,  // kept as is, flagged; the session rejects the message (550 5.6.0)
};

// Where a DataReader puts the decoded message, piece by piece, in order.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void Append(std::string_view bytes) = 0;
  // The message will not be stored (too large, transaction aborted): drop what was appended
  // now, so it holds neither memory nor disk while the rest of the data is read and ignored.
  virtual void Discard() = 0;
};

// A sink that keeps the message in a string (tests, fuzzers, small tools).
class StringBodySink : public BodySink {
 public:
  void Append(std::string_view bytes) override { data_.append(bytes); }
  void Discard() override { std::string().swap(data_); }
  const std::string& data() const { return data_; }
  std::string Take() { return std::move(data_); }

 private:
  std::string data_;
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

  // Starts a new message whose decoded bytes go to `sink` (borrowed until the next Begin).
  void Begin(Mode mode, LineEndingPolicy policy, const Limits& limits, BodySink* sink);
  // Consumes input. In kDotStuffed it stops right after the terminating "." line and returns
  // how much it used; otherwise it uses everything.
  size_t Feed(std::string_view input);
  // kChunked/kBinary: the last chunk ended (a pending CR is resolved as bare).
  void Finish();
  bool done() const { return state_ == State::kDone; }

  // Octets of decoded content (dot-stuffing undone, CRLF line ends), counted even after the
  // limit was passed; all of them went to the sink unless size_exceeded() (then it was told to
  // Discard).
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
  // What the current line's bytes before its first colon say (header lines only).
  enum class NameScan { kScanning, kField, kNotField };

  // Content of the current line.
  void Content(const char* data, size_t n);
  // Bytes of the decoded message (content and line ends) to the sink, within the size limit.
  // Bytes that lie right after the previous ones in Feed's input wait to go as one Append
  // (FlushOutput): a line and its CRLF, line after line, reach the sink as one piece instead of
  // two appends per line, each with its own checksum start and copy.
  void Output(const char* data, size_t n);
  void FlushOutput();
  // Follows a header line's field name as its bytes arrive.
  void ScanName(const char* data, size_t n);
  // A line ended with a real CRLF (crlf=true; `crlf_in_input` points at it in Feed's input when
  // both bytes are there) or a bare CR/LF (`bare` is the byte).
  void EndLine(bool real_crlf, char bare, const char* crlf_in_input = nullptr);
  void CheckLine();
  void EndHeaders(uint64_t offset);
  // At a line start past the headers: takes the whole lines from `p` that need nothing but
  // counting ("text CRLF": no leading dot in DATA, no bare CR or LF) and returns where it
  // stopped, leaving everything else to the state machine, whose per-byte steps were half of
  // ecmta's instructions per 100 KB message. The run goes to PlainLines at once.
  const char* WholeBodyLines(const char* p, const char* end);
  // Whole body lines [begin, end), each ending in its CRLF, the longest `longest` octets
  // without it: what Content and EndLine do line by line outside the headers (the longest line,
  // the line limit, the octets to the sink), done once for the run. Line by line, with two
  // memchr calls per line, ecmta ran 761,378 instructions per relayed 100 KB message; with
  // FindLineBreak and this, 562,154 (bench/relay/instructions.sh).
  void PlainLines(const char* begin, const char* end, size_t longest);

  Mode mode_ = Mode::kDotStuffed;
  LineEndingPolicy policy_ = LineEndingPolicy::kFix;
  Limits limits_;
  BodySink* sink_ = nullptr;
  State state_ = State::kDone;
  uint64_t kept_ = 0;  // octets given to the sink (or waiting in pending_)
  // Feed's input while it runs, and the kept bytes from it not yet given to the sink.
  const char* input_begin_ = nullptr;
  const char* input_end_ = nullptr;
  const char* pending_ = nullptr;
  size_t pending_len_ = 0;
  uint64_t content_size_ = 0;
  uint64_t wire_size_ = 0;
  size_t line_len_ = 0;      // content octets of the current line
  uint64_t line_start_ = 0;  // offset of the current line in the message
  char line_first_ = 0;      // its first octet, when line_len_ > 0
  NameScan name_scan_ = NameScan::kScanning;
  size_t name_len_ = 0;  // octets before the colon, when kField
  char name_[10] = {};   // their start: enough for "Message-ID" and "Date"
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
