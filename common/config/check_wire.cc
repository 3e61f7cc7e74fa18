#include "common/config/check_wire.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

namespace ec::config {
namespace {

// "done -1 65536" and the like, with room to spare.
constexpr size_t kCheckMaxHeader = 32;
constexpr size_t kCheckRequestFields = 6;

// A decimal that is the whole of `text` (no sign for unsigned T).
template <typename T>
std::optional<T> CheckNumber(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The header's words after `tag`, and where the body starts; nullopt while the line is
// incomplete.
Result<std::optional<std::pair<std::vector<std::string_view>, size_t>>> CheckHeader(
    std::string_view buffer, std::string_view tag) {
  size_t eol = buffer.find('\n');
  if (eol == std::string_view::npos) {
    if (buffer.size() > kCheckMaxHeader) return InvalidArgument("check frame header too long");
    return std::optional<std::pair<std::vector<std::string_view>, size_t>>();
  }
  if (eol > kCheckMaxHeader) return InvalidArgument("check frame header too long");
  std::string_view line = buffer.substr(0, eol);
  std::vector<std::string_view> words;
  for (size_t start = 0; start <= line.size();) {
    size_t space = std::min(line.find(' ', start), line.size());
    words.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  if (words.empty() || words[0] != tag) {
    return InvalidArgument("not a " + std::string(tag) + " frame: \"" + std::string(line) + "\"");
  }
  words.erase(words.begin());
  return std::optional(std::make_pair(std::move(words), eol + 1));
}

}  // namespace

Result<std::string> EncodeCheckRequest(const CheckRequest& request) {
  const std::array<const std::string*, kCheckRequestFields> fields = {
      &request.cwd,  &request.conf_dir,  &request.config,
      &request.root, &request.node_name, &request.search_path};
  std::string body;
  for (const std::string* field : fields) {
    if (field->find('\0') != std::string::npos) {
      return InvalidArgument("a check request field holds a NUL byte");
    }
    body.append(*field);
    body.push_back('\0');
  }
  std::string frame = "check " + std::to_string(body.size()) + "\n";
  if (frame.size() + body.size() > kMaxCheckRequest) {
    return InvalidArgument("check request too large");
  }
  return frame + body;
}

std::string EncodeCheckReply(const CheckReply& reply) {
  const int code = std::clamp(reply.exit_code, -1, 255);
  const size_t length = std::min(reply.output.size(), kMaxCheckOutput);
  std::string frame = "done " + std::to_string(code) + " " + std::to_string(length) + "\n";
  frame.append(reply.output, 0, length);
  return frame;
}

Result<std::optional<CheckRequest>> CheckFrameParser::PopRequest() {
  EC_ASSIGN_OR_RETURN(auto header, CheckHeader(buffer_, "check"));
  if (!header) return std::optional<CheckRequest>();
  const auto& [words, body_start] = *header;
  std::optional<size_t> length = words.size() == 1 ? CheckNumber<size_t>(words[0]) : std::nullopt;
  // The whole frame, as the encoder counts it.
  if (!length || *length > kMaxCheckRequest - body_start) {
    return InvalidArgument("bad check request length");
  }
  if (buffer_.size() - body_start < *length) return std::optional<CheckRequest>();
  std::string_view body(buffer_.data() + body_start, *length);
  std::array<std::string, kCheckRequestFields> fields;
  for (std::string& field : fields) {
    size_t nul = body.find('\0');
    if (nul == std::string_view::npos) return InvalidArgument("check request: missing fields");
    field.assign(body.substr(0, nul));
    body.remove_prefix(nul + 1);
  }
  if (!body.empty()) return InvalidArgument("check request: extra bytes after the fields");
  buffer_.erase(0, body_start + *length);
  return std::optional(CheckRequest{std::move(fields[0]), std::move(fields[1]),
                                    std::move(fields[2]), std::move(fields[3]),
                                    std::move(fields[4]), std::move(fields[5])});
}

Result<std::optional<CheckReply>> CheckFrameParser::PopReply() {
  EC_ASSIGN_OR_RETURN(auto header, CheckHeader(buffer_, "done"));
  if (!header) return std::optional<CheckReply>();
  const auto& [words, body_start] = *header;
  if (words.size() != 2) return InvalidArgument("bad check reply header");
  std::optional<int> code = CheckNumber<int>(words[0]);
  std::optional<size_t> length = CheckNumber<size_t>(words[1]);
  if (!code || *code < -1 || *code > 255) return InvalidArgument("bad exit code in check reply");
  if (!length || *length > kMaxCheckOutput) return InvalidArgument("bad check reply length");
  if (buffer_.size() - body_start < *length) return std::optional<CheckReply>();
  CheckReply reply{*code, buffer_.substr(body_start, *length)};
  buffer_.erase(0, body_start + *length);
  return std::optional(std::move(reply));
}

}  // namespace ec::config
