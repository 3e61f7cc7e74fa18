#include "duravip/keeper_protocol.h"

#include <array>
#include <charconv>
#include <utility>

namespace ec::duravip {
namespace {

constexpr std::string_view kExpiredWord = "expired";

constexpr std::array<std::pair<StatusCode, std::string_view>, 10> kCodeWords = {{
    {StatusCode::kInvalidArgument, "invalid_argument"},
    {StatusCode::kNotFound, "not_found"},
    {StatusCode::kAlreadyExists, "already_exists"},
    {StatusCode::kFailedPrecondition, "failed_precondition"},
    {StatusCode::kResourceExhausted, "resource_exhausted"},
    {StatusCode::kUnavailable, "unavailable"},
    {StatusCode::kDeadlineExceeded, "deadline_exceeded"},
    {StatusCode::kPermissionDenied, "permission_denied"},
    {StatusCode::kIoError, "io_error"},
    {StatusCode::kInternal, "internal"},
}};

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < line.size()) {
    pos = line.find_first_not_of(" \t", pos);
    if (pos == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", pos);
    if (end == std::string_view::npos) end = line.size();
    words.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

// Hostile input echoed in an error message: printable and shortened.
std::string Quote(std::string_view text) { return QuoteForError(text, 40); }

// A decimal number of at most 10 digits, no sign; -1 when it is not one.
int64_t ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 10 ||
      text.find_first_not_of("0123456789") != std::string_view::npos) {
    return -1;
  }
  int64_t value = -1;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Status WantArgs(std::string_view command, const std::vector<std::string_view>& words, size_t args,
                std::string_view usage) {
  if (words.size() != args + 1) {
    return InvalidArgument(std::string(command) + " takes " + std::to_string(args) + " argument" +
                           (args == 1 ? "" : "s") + ": " + std::string(usage));
  }
  return Status::Ok();
}

bool IsPrintableWord(std::string_view word) {
  if (word.empty()) return false;
  for (unsigned char c : word) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view KeeperCommandName(KeeperCommand command) {
  switch (command) {
    case KeeperCommand::kAdd:
      return "add";
    case KeeperCommand::kDel:
      return "del";
    case KeeperCommand::kFlush:
      return "flush";
    case KeeperCommand::kAnnounce:
      return "announce";
    case KeeperCommand::kLease:
      return "lease";
    case KeeperCommand::kHeld:
      return "held";
  }
  return "unknown";
}

std::string_view StatusCodeWord(StatusCode code) {
  for (const auto& [c, word] : kCodeWords) {
    if (c == code) return word;
  }
  return "internal";  // kOk never goes out as an error
}

Result<KeeperRequest> ParseRequest(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxRequestLine) return InvalidArgument("request line too long");
  for (unsigned char c : line) {
    if ((c < 0x20 && c != '\t') || c >= 0x7f) {
      return InvalidArgument("control or non-ASCII byte in request");
    }
  }
  const std::vector<std::string_view> words = SplitWords(line);
  if (words.empty()) return InvalidArgument("empty request");

  KeeperRequest request;
  const std::string_view command = words[0];
  if (command == "add" || command == "del" || command == "flush") {
    request.command = command == "add"   ? KeeperCommand::kAdd
                      : command == "del" ? KeeperCommand::kDel
                                         : KeeperCommand::kFlush;
    EC_RETURN_IF_ERROR(WantArgs(command, words, 2, "<ip>/<prefix> <ifname>"));
    EC_ASSIGN_OR_RETURN(request.vip, VipAddress::Parse(words[1], words[2]));
  } else if (command == "announce") {
    request.command = KeeperCommand::kAnnounce;
    EC_RETURN_IF_ERROR(WantArgs(command, words, 3, "<ip>/<prefix> <ifname> <count>"));
    EC_ASSIGN_OR_RETURN(request.vip, VipAddress::Parse(words[1], words[2]));
    const int64_t count = ParseNumber(words[3]);
    if (count < 1 || count > kMaxAnnounceCount) {
      return InvalidArgument("announce count " + Quote(words[3]) + " is not 1.." +
                             std::to_string(kMaxAnnounceCount));
    }
    request.count = static_cast<int>(count);
  } else if (command == "lease") {
    request.command = KeeperCommand::kLease;
    EC_RETURN_IF_ERROR(WantArgs(command, words, 1, "<ms>"));
    const int64_t ms = ParseNumber(words[1]);
    if (ms < 0 || ms > kMaxLeaseMs) {
      return InvalidArgument("lease " + Quote(words[1]) + " is not 0.." +
                             std::to_string(kMaxLeaseMs) + " ms");
    }
    request.lease_ms = ms;
  } else if (command == "held") {
    request.command = KeeperCommand::kHeld;
    EC_RETURN_IF_ERROR(WantArgs(command, words, 0, "no arguments"));
  } else {
    return InvalidArgument("unknown command " + Quote(command) +
                           " (add, del, flush, announce, lease, held)");
  }
  return request;
}

std::string FormatRequest(const KeeperRequest& request) {
  std::string line(KeeperCommandName(request.command));
  switch (request.command) {
    case KeeperCommand::kAdd:
    case KeeperCommand::kDel:
    case KeeperCommand::kFlush:
      line += " " + request.vip.Cidr() + " " + request.vip.interface;
      break;
    case KeeperCommand::kAnnounce:
      line += " " + request.vip.Cidr() + " " + request.vip.interface + " " +
              std::to_string(request.count);
      break;
    case KeeperCommand::kLease:
      line += " " + std::to_string(request.lease_ms);
      break;
    case KeeperCommand::kHeld:
      break;
  }
  return line;
}

std::string FormatReply(const KeeperReply& reply) {
  std::string line;
  if (reply.status.ok() && !reply.expired) {
    line = "ok";
    for (const std::string& word : reply.words) line += " " + word;
    return line;
  }
  line = "err ";
  line += reply.expired ? kExpiredWord : StatusCodeWord(reply.status.code());
  line += ' ';
  const std::string& text = reply.status.message();
  const size_t room = kMaxReplyLine - line.size();
  for (size_t i = 0; i < text.size() && i < room; ++i) {
    const unsigned char c = text[i];
    line += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
  }
  return line;
}

Result<KeeperReply> ParseReply(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxReplyLine) return InvalidArgument("keeper reply too long");
  KeeperReply reply;
  if (line == "ok" || line.starts_with("ok ")) {
    for (std::string_view word : SplitWords(line.substr(2))) {
      if (!IsPrintableWord(word)) return InvalidArgument("bad word in keeper reply");
      reply.words.emplace_back(word);
    }
    return reply;
  }
  if (!line.starts_with("err ")) {
    return InvalidArgument("not a keeper reply: " + Quote(line));
  }
  std::string_view rest = line.substr(4);
  const size_t space = rest.find(' ');
  const std::string_view code = rest.substr(0, space);
  const std::string_view text = space == std::string_view::npos ? "" : rest.substr(space + 1);
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return InvalidArgument("control character in keeper reply");
  }
  if (code == kExpiredWord) {
    reply.expired = true;
    reply.status = Status(StatusCode::kFailedPrecondition, std::string(text));
    return reply;
  }
  for (const auto& [c, word] : kCodeWords) {
    if (word == code) {
      reply.status = Status(c, std::string(text));
      return reply;
    }
  }
  return InvalidArgument("unknown error code in keeper reply: " + Quote(code));
}

std::vector<std::string> HeldWords(const std::vector<VipAddress>& held) {
  std::vector<std::string> words;
  for (const VipAddress& vip : held) {
    words.push_back(vip.Cidr());
    words.push_back(vip.interface);
  }
  return words;
}

Result<std::vector<VipAddress>> ParseHeldWords(const std::vector<std::string>& words) {
  if (words.size() % 2 != 0) return InvalidArgument("odd number of words in a held reply");
  std::vector<VipAddress> held;
  for (size_t i = 0; i < words.size(); i += 2) {
    EC_ASSIGN_OR_RETURN(VipAddress vip, VipAddress::Parse(words[i], words[i + 1]));
    held.push_back(std::move(vip));
  }
  return held;
}

void LineReader::Append(std::string_view data) {
  if (discarding_) {
    const size_t lf = data.find('\n');
    if (lf == std::string_view::npos) return;
    data.remove_prefix(lf + 1);
    discarding_ = false;
  }
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(data);
}

LineReader::Next LineReader::Pop(std::string* line) {
  const size_t lf = buffer_.find('\n', start_);
  if (lf == std::string::npos) {
    if (buffered() <= max_line_ + 1) return Next::kNeedMore;  // + 1: a CR before the LF
    // Too long already, and its end not here yet: drop it and whatever follows up to its LF.
    buffer_.clear();
    start_ = 0;
    discarding_ = true;
    return Next::kTooLong;
  }
  size_t end = lf;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  const size_t begin = start_;
  start_ = lf + 1;
  if (end - begin > max_line_) return Next::kTooLong;
  line->assign(buffer_, begin, end - begin);
  return Next::kLine;
}

}  // namespace ec::duravip
