#include "mta/smtp/reply.h"

namespace ec::smtp {

void AppendReply(const Reply& reply, bool enhanced, std::string* out) {
  const std::string code = std::to_string(reply.code);
  std::string_view text = reply.text;
  while (true) {
    const size_t nl = text.find('\n');
    const bool last = nl == std::string_view::npos;
    out->append(code);
    out->push_back(last ? ' ' : '-');
    if (enhanced && !reply.enhanced.empty()) {
      out->append(reply.enhanced);
      out->push_back(' ');
    }
    // Reply text may echo client input (a parameter name, a BODY value): never let a control
    // character through, or a client could forge reply lines.
    for (char c : last ? text : text.substr(0, nl)) {
      out->push_back((static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c);
    }
    out->append("\r\n");
    if (last) break;
    text.remove_prefix(nl + 1);
  }
}

std::string FormatReply(const Reply& reply, bool enhanced) {
  std::string out;
  AppendReply(reply, enhanced, &out);
  return out;
}

}  // namespace ec::smtp
