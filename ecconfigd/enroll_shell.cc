#include "ecconfigd/enroll_shell.h"

#include <algorithm>

namespace ec::ecconfigd {

std::string ShellQuote(std::string_view s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(s);
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";  // close, an escaped quote, reopen: sh has no escape inside '...'
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string FormatEnrolShellCommand(const EnrolShellCommand& c) {
  // The pin is ours (base64, never a quote); always quoted, as operators have seen it.
  // One word: the quoted URL, then the token from $T.
  const std::string url =
      ShellQuote("https://" + c.manager + "/clone/" + c.node + "?token=") + "\"$T\"";
  const std::string root = ShellQuote(c.node_root);
  return "T=" + ShellQuote(c.token) + "; curl --fail -sS -k --pinnedpubkey '" + c.pin + "' " + url +
         " | tar xz -C " + root + " && ECCFG_ENROL_TOKEN=$T " +
         ShellQuote(c.node_root + "/bin/eccfg") + " enrol --root " + root;
}

}  // namespace ec::ecconfigd
