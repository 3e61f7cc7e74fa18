// The console protocol's framing (docs/control-protocol.md), shared by the control server, its
// clients and the fuzz targets. A request is one line of text ended by LF (CR LF accepted); a
// response is a header line "ok <length>" or "error <length>" followed by exactly <length> bytes
// of text. These classes only frame bytes; they do no I/O. Not thread-safe: one per connection.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::control {

inline constexpr size_t kDefaultMaxRequestLine = 4096;
inline constexpr size_t kMaxResponseBody = 64 << 20;

struct Response {
  bool ok = true;
  std::string text;
};

// "ok 6\nhello\n": the text, with a final newline added when non-empty text lacks one.
std::string EncodeResponse(const Response& response);

// Splits a byte stream into request lines.
class RequestFramer {
 public:
  enum class Next { kLine, kNeedMore, kTooLong };

  explicit RequestFramer(size_t max_line = kDefaultMaxRequestLine) : max_line_(max_line) {}

  void Append(std::string_view data) { buffer_.append(data); }
  // kLine: `*line` is the next request without its line ending. kNeedMore: no complete line
  // yet. kTooLong: a line (complete or not) exceeds max_line; the stream cannot be trusted.
  Next Pop(std::string* line);
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  size_t max_line_;
  std::string buffer_;
  size_t start_ = 0;  // consumed prefix of buffer_, dropped lazily
};

// Reassembles responses from a byte stream (client side).
class ResponseParser {
 public:
  void Append(std::string_view data) { buffer_.append(data); }
  // A complete response, nullopt if more bytes are needed, or an error if the stream is not
  // this protocol (then the connection is useless).
  Result<std::optional<Response>> Pop();

 private:
  std::string buffer_;
};

// The request's words, split on spaces and tabs.
std::vector<std::string_view> SplitWords(std::string_view line);

}  // namespace ec::control
