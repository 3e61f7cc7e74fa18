// The client side of SMTP replies: parses what a remote server answers (single and multi-line
// replies, RFC 5321 §4.2) and the EHLO extension list. The server may be anything on the
// Internet, so every byte is untrusted: malformed input is an error, never a crash, and a line
// is capped so a peer cannot make us buffer without end. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec::outbound {

struct ServerReply {
  int code = 0;              // 200..599
  std::string enhanced;      // "5.1.1" when the first line starts with one, else empty
  std::vector<std::string> lines;  // text after "ddd-"/"ddd ", one per line

  bool positive() const { return code >= 200 && code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // "550 5.1.1 text / more text", one line, for logs and DSNs.
  std::string ToString() const;
};

enum class ReplyParse { kComplete, kNeedMore, kError };

inline constexpr size_t kMaxReplyLine = 4096;  // RFC 5321 says 512; servers exceed it
inline constexpr size_t kMaxReplyLines = 256;

// Parses one reply from the front of `input`. kComplete: *reply is set and *consumed says how
// many bytes it used. kNeedMore: no complete reply yet (nothing consumed). kError: the input is
// not SMTP (*error says why); the connection should be dropped.
ReplyParse ParseReply(std::string_view input, ServerReply* reply, size_t* consumed,
                      std::string* error);

// What an EHLO reply offers.
struct Extensions {
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool enhanced_status_codes = false;
  bool smtputf8 = false;
  bool dsn = false;   // RFC 3461: RET/ENVID on MAIL, NOTIFY/ORCPT on RCPT
  uint64_t size = 0;  // 0: no SIZE limit announced
};
Extensions ParseExtensions(const ServerReply& ehlo_reply);

}  // namespace ec::outbound
