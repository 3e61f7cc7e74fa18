#include "mta/smtp/data_reader.h"

#include <algorithm>
#include <cstring>
#include <functional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/base/check.h"
#include "mta/smtp/command.h"

namespace ec::smtp {
namespace {

// The first CR or LF in [p, end), or `end`: one pass where two memchr calls per line (the line
// end, then a CR inside the line) cost more in calls than in bytes for lines of mail's length.
const char* FindLineBreak(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int hits = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (hits != 0) return p + __builtin_ctz(static_cast<unsigned>(hits));
    p += 16;
  }
#endif
  while (p < end && *p != '\r' && *p != '\n') ++p;
  return p;
}

}  // namespace

void DataReader::Begin(Mode mode, LineEndingPolicy policy, const Limits& limits, BodySink* sink) {
  EC_CHECK(sink != nullptr);
  mode_ = mode;
  policy_ = policy;
  limits_ = limits;
  sink_ = sink;
  state_ = State::kLineStart;
  kept_ = content_size_ = wire_size_ = 0;
  line_len_ = 0;
  line_start_ = 0;
  name_scan_ = NameScan::kScanning;
  discarding_ = size_exceeded_ = bare_cr_ = bare_lf_ = false;
  line_too_long_ = header_line_too_long_ = false;
  longest_line_ = 0;
  in_headers_ = first_line_ = true;
  blank_line_ends_headers_ = false;
  headers_ = HeaderInfo();
}

void DataReader::Content(const char* data, size_t n) {
  if (n == 0) return;
  if (line_len_ == 0) line_first_ = data[0];
  if (in_headers_ && !discarding_ && name_scan_ == NameScan::kScanning) ScanName(data, n);
  line_len_ += n;
  Output(data, n);
}

void DataReader::Output(const char* data, size_t n) {
  content_size_ += n;
  if (discarding_) return;
  if (limits_.max_message_size != 0 && kept_ + n > limits_.max_message_size) {
    // Keep reading to the end of the data, but drop what we have: the message is refused.
    discarding_ = size_exceeded_ = true;
    in_headers_ = false;
    pending_len_ = 0;  // dropped with the rest
    sink_->Discard();
    return;
  }
  kept_ += n;
  if (pending_len_ != 0 && pending_ + pending_len_ == data) {
    pending_len_ += n;
    return;
  }
  FlushOutput();
  // std::less: `data` may point into another object (a literal) than the input.
  const std::less<const char*> before;
  if (!before(data, input_begin_) && before(data, input_end_)) {
    pending_ = data;
    pending_len_ = n;
  } else {
    sink_->Append(std::string_view(data, n));  // a literal or a local: cannot wait
  }
}

void DataReader::FlushOutput() {
  if (pending_len_ == 0) return;
  sink_->Append(std::string_view(pending_, pending_len_));
  pending_len_ = 0;
}

// A field name is one or more printable ASCII octets but ":" (RFC 5322 §2.2), then ":".
void DataReader::ScanName(const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = data[i];
    const size_t pos = line_len_ + i;
    if (c == ':') {
      name_scan_ = pos > 0 ? NameScan::kField : NameScan::kNotField;
      name_len_ = pos;
      return;
    }
    if (c < 33 || c > 126) {
      name_scan_ = NameScan::kNotField;
      return;
    }
    if (pos < sizeof(name_)) name_[pos] = static_cast<char>(c);
  }
}

void DataReader::CheckLine() {
  longest_line_ = std::max(longest_line_, line_len_);
  if (mode_ != Mode::kBinary && limits_.max_line_length != 0 &&
      line_len_ > limits_.max_line_length) {
    line_too_long_ = true;
  }
  if (!in_headers_ || discarding_) return;
  if (line_len_ == 0) {
    EndHeaders(kept_);  // EndLine moves it past the line end it is about to add
    blank_line_ends_headers_ = true;
    return;
  }
  if (line_first_ == ' ' || line_first_ == '\t') {
    // A continuation; as the first line it means there is no header section.
    if (first_line_) EndHeaders(line_start_);
  } else if (name_scan_ != NameScan::kField) {
    EndHeaders(line_start_);
  } else {
    headers_.present = true;
    const std::string_view name(name_, std::min(name_len_, sizeof(name_)));
    if (name_len_ == 10 && EqualsIgnoreCase(name, "Message-ID")) headers_.has_message_id = true;
    if (name_len_ == 4 && EqualsIgnoreCase(name, "Date")) headers_.has_date = true;
  }
  if (in_headers_) {
    headers_.longest_line = std::max(headers_.longest_line, line_len_);
    if (limits_.max_header_line_length != 0 && line_len_ > limits_.max_header_line_length) {
      header_line_too_long_ = true;
    }
  }
  first_line_ = false;
}

void DataReader::EndHeaders(uint64_t offset) {
  in_headers_ = false;
  headers_.complete = true;
  headers_.end_offset = offset;
}

void DataReader::EndLine(bool real_crlf, char bare, const char* crlf_in_input) {
  CheckLine();
  if (real_crlf && crlf_in_input != nullptr) {
    Output(crlf_in_input, 2);
  } else if (real_crlf || (mode_ != Mode::kBinary && policy_ == LineEndingPolicy::kFix)) {
    Output("\r\n", 2);
  } else {
    Output(&bare, 1);
  }
  if (blank_line_ends_headers_) {
    blank_line_ends_headers_ = false;
    if (!discarding_) headers_.end_offset = kept_;
  }
  if (!real_crlf && mode_ != Mode::kBinary) (bare == '\r' ? bare_cr_ : bare_lf_) = true;
  line_len_ = 0;
  line_start_ = kept_;
  name_scan_ = NameScan::kScanning;
}

const char* DataReader::WholeBodyLines(const char* p, const char* end) {
  const char* const run = p;
  size_t longest = 0;
  while (p < end) {
    if (mode_ == Mode::kDotStuffed && *p == '.') break;
    const char* brk = FindLineBreak(p, end);
    // No line end yet (or its LF not yet read), a bare LF, or a bare CR: the state machine.
    if (end - brk < 2 || brk[0] != '\r' || brk[1] != '\n') break;
    longest = std::max(longest, static_cast<size_t>(brk - p));
    p = brk + 2;
  }
  if (p != run) PlainLines(run, p, longest);
  return p;
}

void DataReader::PlainLines(const char* begin, const char* end, size_t longest) {
  // CheckLine outside the headers, for every line of the run.
  longest_line_ = std::max(longest_line_, longest);
  if (limits_.max_line_length != 0 && longest > limits_.max_line_length) line_too_long_ = true;
  // Content and EndLine: the lines and their CRLFs, contiguous in the input. Over the size
  // limit the whole run is dropped where line by line its first lines would have reached the
  // sink first; either way the sink discards everything.
  Output(begin, static_cast<size_t>(end - begin));
  // EndLine: the next line starts here (line_len_ is still 0, nothing to scan for a name).
  line_start_ = kept_;
}

size_t DataReader::Feed(std::string_view input) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
  input_begin_ = begin;
  input_end_ = end;
  // Next CR / LF at or after p, found with memchr once per occurrence (linear overall).
  const char* next_cr = nullptr;
  const char* next_lf = nullptr;
  auto find_next = [&](const char** cache, char c) {
    if (*cache == nullptr || *cache < p) {
      const void* hit = std::memchr(p, c, end - p);
      *cache = hit ? static_cast<const char*>(hit) : end;
    }
    return *cache;
  };
  while (p < end && state_ != State::kDone) {
    switch (state_) {
      case State::kLineStart:
        if (!in_headers_ && mode_ != Mode::kBinary) {
          p = WholeBodyLines(p, end);
          if (p == end) break;
        }
        if (mode_ == Mode::kDotStuffed && *p == '.') {
          ++p;
          state_ = State::kDot;
        } else {
          state_ = State::kText;
        }
        break;
      case State::kText: {
        const char* stop = std::min(find_next(&next_cr, '\r'), find_next(&next_lf, '\n'));
        if (stop > p) {
          Content(p, stop - p);
          p = stop;
        }
        if (p == end) break;
        if (*p == '\r') {
          state_ = State::kCr;
        } else {
          EndLine(false, '\n');  // a bare LF: text continues, not a line start
        }
        ++p;
        break;
      }
      case State::kCr:
        if (*p == '\n') {
          // The CR came at the end of the previous input when this LF starts this one.
          EndLine(true, 0, p > begin ? p - 1 : nullptr);
          ++p;
          state_ = State::kLineStart;
        } else {
          EndLine(false, '\r');
          state_ = State::kText;
        }
        break;
      case State::kDot:
        if (*p == '\r') {
          ++p;
          state_ = State::kDotCr;
        } else if (*p == '\n') {
          // <CRLF>.<LF>: not the end; the dot is content.
          Content(".", 1);
          ++p;
          EndLine(false, '\n');
          state_ = State::kText;
        } else {
          state_ = State::kText;  // a leading dot is removed (RFC 5321 §4.5.2)
        }
        break;
      case State::kDotCr:
        if (*p == '\n') {
          ++p;
          state_ = State::kDone;
          if (in_headers_ && !discarding_) EndHeaders(kept_);
        } else {
          // <CRLF>.<CR>x: not the end either.
          Content(".", 1);
          EndLine(false, '\r');
          state_ = State::kText;
        }
        break;
      case State::kDone:
        break;
    }
  }
  FlushOutput();
  input_begin_ = input_end_ = nullptr;
  wire_size_ += p - begin;
  return p - begin;
}

void DataReader::Finish() {
  if (state_ == State::kDone) return;
  if (state_ == State::kCr) {
    EndLine(false, '\r');
  } else if (line_len_ > 0) {
    CheckLine();
  }
  if (in_headers_ && !discarding_) EndHeaders(kept_);
  state_ = State::kDone;
}

}  // namespace ec::smtp
