// Fuzzes the client-side SMTP reply parser the way SmtpClient uses it: replies parsed one after
// another from a buffer. Invariants: no crash, progress on every complete reply, codes in range,
// line caps respected, and EHLO extension parsing of any complete reply.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "mta/outbound/reply_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    ec::outbound::ServerReply reply;
    size_t consumed = 0;
    std::string error;
    auto r = ec::outbound::ParseReply(in, &reply, &consumed, &error);
    if (r != ec::outbound::ReplyParse::kComplete) {
      EC_CHECK(r == ec::outbound::ReplyParse::kNeedMore || !error.empty());
      break;
    }
    EC_CHECK(consumed > 0 && consumed <= in.size());
    EC_CHECK(reply.code >= 200 && reply.code <= 599);
    EC_CHECK(!reply.lines.empty() && reply.lines.size() <= ec::outbound::kMaxReplyLines);
    for (const std::string& l : reply.lines) EC_CHECK(l.size() <= ec::outbound::kMaxReplyLine);
    (void)ec::outbound::ParseExtensions(reply);
    EC_CHECK(reply.ToString().find('\n') == std::string::npos);
    in.remove_prefix(consumed);
  }
  return 0;
}
