#include "mta/smtp/data_reader.h"

#include <algorithm>
#include <cstring>

#include "mta/smtp/command.h"

namespace ec::smtp {

void DataReader::Begin(Mode mode, LineEndingPolicy policy, const Limits& limits,
                       uint64_t size_hint) {
  mode_ = mode;
  policy_ = policy;
  limits_ = limits;
  state_ = State::kLineStart;
  body_.clear();
  if (limits.max_message_size != 0) size_hint = std::min(size_hint, limits.max_message_size);
  // A hostile SIZE= must not make us allocate: cap the pre-size.
  body_.reserve(std::min<uint64_t>(size_hint, 64 << 20));
  content_size_ = wire_size_ = 0;
  line_len_ = line_start_ = 0;
  discarding_ = size_exceeded_ = bare_cr_ = bare_lf_ = false;
  line_too_long_ = header_line_too_long_ = false;
  longest_line_ = 0;
  in_headers_ = first_line_ = true;
  blank_line_ends_headers_ = false;
  headers_ = HeaderInfo();
}

void DataReader::Emit(const char* data, size_t n) {
  content_size_ += n;
  if (discarding_) return;
  if (limits_.max_message_size != 0 && body_.size() + n > limits_.max_message_size) {
    // Keep reading to the end of the data, but drop what we have: the message is refused.
    discarding_ = size_exceeded_ = true;
    in_headers_ = false;
    std::string().swap(body_);
    return;
  }
  body_.append(data, n);
}

void DataReader::CheckLine() {
  longest_line_ = std::max(longest_line_, line_len_);
  if (mode_ != Mode::kBinary && limits_.max_line_length != 0 &&
      line_len_ > limits_.max_line_length) {
    line_too_long_ = true;
  }
  if (!in_headers_ || discarding_) return;
  const std::string_view line(body_.data() + line_start_, body_.size() - line_start_);
  if (line.empty()) {
    EndHeaders(body_.size());  // EndLine moves it past the line end it is about to add
    blank_line_ends_headers_ = true;
    return;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    // A continuation; as the first line it means there is no header section.
    if (first_line_) EndHeaders(line_start_);
  } else {
    const size_t colon = line.find(':');
    bool is_field = colon != std::string_view::npos && colon > 0;
    for (size_t i = 0; is_field && i < colon; ++i) {
      const unsigned char c = line[i];
      if (c < 33 || c > 126) is_field = false;
    }
    if (!is_field) {
      EndHeaders(line_start_);
    } else {
      headers_.present = true;
      const std::string_view name = line.substr(0, colon);
      if (EqualsIgnoreCase(name, "Message-ID")) headers_.has_message_id = true;
      if (EqualsIgnoreCase(name, "Date")) headers_.has_date = true;
    }
  }
  if (in_headers_) {
    headers_.longest_line = std::max(headers_.longest_line, line_len_);
    if (limits_.max_header_line_length != 0 && line_len_ > limits_.max_header_line_length) {
      header_line_too_long_ = true;
    }
  }
  first_line_ = false;
}

void DataReader::EndHeaders(size_t offset) {
  in_headers_ = false;
  headers_.complete = true;
  headers_.end_offset = offset;
}

void DataReader::EndLine(bool real_crlf, char bare) {
  CheckLine();
  if (real_crlf || (mode_ != Mode::kBinary && policy_ == LineEndingPolicy::kFix)) {
    Emit("\r\n", 2);
  } else {
    Emit(&bare, 1);
  }
  if (blank_line_ends_headers_) {
    blank_line_ends_headers_ = false;
    if (!discarding_) headers_.end_offset = body_.size();
  }
  if (!real_crlf && mode_ != Mode::kBinary) (bare == '\r' ? bare_cr_ : bare_lf_) = true;
  line_len_ = 0;
  line_start_ = body_.size();
}

size_t DataReader::Feed(std::string_view input) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
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
          Emit(p, stop - p);
          line_len_ += stop - p;
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
          ++p;
          EndLine(true, 0);
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
          Emit(".", 1);
          ++line_len_;
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
          if (in_headers_ && !discarding_) EndHeaders(body_.size());
        } else {
          // <CRLF>.<CR>x: not the end either.
          Emit(".", 1);
          ++line_len_;
          EndLine(false, '\r');
          state_ = State::kText;
        }
        break;
      case State::kDone:
        break;
    }
  }
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
  if (in_headers_ && !discarding_) EndHeaders(body_.size());
  state_ = State::kDone;
}

}  // namespace ec::smtp
