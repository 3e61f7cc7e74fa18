#include "common/control/protocol.h"

#include <charconv>

namespace ec::control {
namespace {
// "error 67108864" plus the newline.
constexpr size_t kMaxHeader = 24;
}  // namespace

std::string EncodeResponse(const Response& response) {
  bool add_newline = !response.text.empty() && response.text.back() != '\n';
  size_t length = response.text.size() + (add_newline ? 1 : 0);
  std::string out = (response.ok ? "ok " : "error ") + std::to_string(length) + "\n";
  out.reserve(out.size() + length);
  out.append(response.text);
  if (add_newline) out.push_back('\n');
  return out;
}

RequestFramer::Next RequestFramer::Pop(std::string* line) {
  std::string_view pending(buffer_.data() + start_, buffer_.size() - start_);
  size_t eol = pending.find('\n');
  if (eol == std::string_view::npos) {
    if (pending.size() > max_line_) return Next::kTooLong;
    if (start_ > 0) {  // compact so a long session does not grow the buffer
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return Next::kNeedMore;
  }
  std::string_view text = pending.substr(0, eol);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.size() > max_line_) return Next::kTooLong;
  line->assign(text);
  start_ += eol + 1;
  return Next::kLine;
}

Result<std::optional<Response>> ResponseParser::Pop() {
  size_t eol = buffer_.find('\n');
  if (eol == std::string::npos) {
    if (buffer_.size() > kMaxHeader) return InvalidArgument("response header too long");
    return std::optional<Response>();
  }
  if (eol > kMaxHeader) return InvalidArgument("response header too long");
  std::string_view header(buffer_.data(), eol);
  Response response;
  std::string_view number;
  if (header.starts_with("ok ")) {
    number = header.substr(3);
  } else if (header.starts_with("error ")) {
    response.ok = false;
    number = header.substr(6);
  } else {
    return InvalidArgument("not a console response header: \"" + std::string(header) + "\"");
  }
  size_t length = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), length);
  if (number.empty() || ec != std::errc() || end != number.data() + number.size()) {
    return InvalidArgument("bad length in response header: \"" + std::string(header) + "\"");
  }
  if (length > kMaxResponseBody) return InvalidArgument("response too large");
  if (buffer_.size() - (eol + 1) < length) return std::optional<Response>();
  response.text = buffer_.substr(eol + 1, length);
  buffer_.erase(0, eol + 1 + length);
  return std::optional<Response>(std::move(response));
}

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace ec::control
