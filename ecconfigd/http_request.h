// The request side of ecconfigd's HTTP/1.1: parsing a request head (request line and header
// fields, up to but not including the blank line) that a client sent. Pure functions over
// untrusted bytes (the fuzz target drives them); callers cap the head's size before calling.
// ecconfigd speaks one request per connection, so there is no pipelining or chunked body here.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::ecconfigd {

inline constexpr size_t kMaxHeaderFields = 64;

struct HttpRequestHead {
  std::string method;  // as sent: GET, POST, ...
  std::string target;  // origin-form: /config/...
  std::map<std::string, std::string> headers;  // names lower-cased; a repeated name is refused
  std::optional<size_t> content_length;
  bool chunked = false;  // a Transfer-Encoding was sent (ecconfigd refuses request bodies so)
  std::string Header(const std::string& lower_name) const;
};

// `head` is everything before the first "\r\n\r\n". Refuses obsolete line folding, bare LF,
// control characters, duplicate or conflicting framing headers and more than kMaxHeaderFields.
Result<HttpRequestHead> ParseHttpRequestHead(std::string_view head);

}  // namespace ec::ecconfigd
