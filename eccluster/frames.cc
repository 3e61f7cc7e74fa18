#include "eccluster/frames.h"

#include <algorithm>
#include <charconv>

namespace ec::eccluster {
namespace {

Result<uint64_t> DecodeId(std::string_view text) {
  uint64_t id = 0;
  if (text.empty() || text.size() > 20) return InvalidArgument("eccluster: bad request id");
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument("eccluster: bad request id");
  }
  return id;
}

Status CheckHeader(const std::vector<std::string_view>& frames) {
  if (frames.size() != 4) {
    return InvalidArgument("eccluster: " + std::to_string(frames.size()) +
                           " message parts, expected 4");
  }
  if (frames[0] != kProtocolVersion) return InvalidArgument("eccluster: not protocol ecc1");
  return Status::Ok();
}

bool Printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

}  // namespace

std::vector<std::string> EncodeRequest(const WireRequest& r) {
  return {std::string(kProtocolVersion), std::to_string(r.id), r.node, r.line};
}

std::vector<std::string> EncodeReply(const WireReply& r) {
  return {std::string(kProtocolVersion), std::to_string(r.id), r.response.ok ? "ok" : "error",
          r.response.text};
}

Result<WireRequest> DecodeRequest(const std::vector<std::string_view>& frames) {
  EC_RETURN_IF_ERROR(CheckHeader(frames));
  WireRequest out;
  EC_ASSIGN_OR_RETURN(out.id, DecodeId(frames[1]));
  // Node names are config words; a command line is one line of printable text.
  if (frames[2].size() > 64 || !Printable(frames[2])) {
    return InvalidArgument("eccluster: bad node name");
  }
  if (frames[3].empty() || frames[3].size() > kMaxCommandLine || !Printable(frames[3])) {
    return InvalidArgument("eccluster: bad command line");
  }
  out.node = std::string(frames[2]);
  out.line = std::string(frames[3]);
  return out;
}

Result<WireReply> DecodeReply(const std::vector<std::string_view>& frames) {
  EC_RETURN_IF_ERROR(CheckHeader(frames));
  WireReply out;
  EC_ASSIGN_OR_RETURN(out.id, DecodeId(frames[1]));
  if (frames[2] == "ok") {
    out.response.ok = true;
  } else if (frames[2] == "error") {
    out.response.ok = false;
  } else {
    return InvalidArgument("eccluster: reply status is neither ok nor error");
  }
  if (frames[3].size() > kMaxReplyText) return InvalidArgument("eccluster: reply too large");
  out.response.text = std::string(frames[3]);
  return out;
}

}  // namespace ec::eccluster
