// An SMTP reply (code, optional RFC 3463 enhanced status code, text) and its wire form. Replies
// are built by the protocol engine and rendered once into the session's output buffer.
// Value type; no threads involved.
#pragma once

#include <string>
#include <string_view>

namespace ec::smtp {

struct Reply {
  int code = 0;
  // "2.1.0"; empty for replies that never carry one (220 greeting, EHLO/HELO, 334, 354).
  std::string_view enhanced;
  std::string text;

  bool ok() const { return code >= 200 && code < 400; }
  bool permanent() const { return code >= 500; }
  // A 421 reply means the server closes the connection right after sending it.
  bool closes() const { return code == 421; }
};

// Appends "<code> [<enhanced> ]<text>\r\n" to *out. Text with embedded "\n" becomes a
// multi-line reply ("250-a\r\n250 b\r\n"). The enhanced code is written only if `enhanced` is on.
void AppendReply(const Reply& reply, bool enhanced, std::string* out);
std::string FormatReply(const Reply& reply, bool enhanced);

}  // namespace ec::smtp
