// The shell command `ecconfigd enroll` prints for the new host (docs/enrolment.md). The operator
// pastes it into a root shell, so every value that came from the command line (--manager,
// --node-root) is quoted for POSIX sh: a blank, quote, `$` or backtick in it stays data. Pure
// functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace ec::ecconfigd {

// `s` as one POSIX sh word: unchanged when it holds only [A-Za-z0-9_@%+=:,./-] (and is not
// empty), else in single quotes with each ' written as '\''.
std::string ShellQuote(std::string_view s);

struct EnrolShellCommand {
  std::string token;      // hex, from EnrolStore::Issue
  std::string pin;        // "sha256//<base64>" (PublicKeyPin)
  std::string manager;    // host:port the new host reaches ecconfigd at
  std::string node;       // a valid node name (msgc::IsValidNodeName)
  std::string node_root;  // where the package is unpacked on the new host
};

// T=<token>; curl ... 'https://<manager>/clone/<node>?token='"$T" | tar xz -C <root> &&
// ECCFG_ENROL_TOKEN=$T <root>/bin/eccfg enrol --root <root>
std::string FormatEnrolShellCommand(const EnrolShellCommand& c);

}  // namespace ec::ecconfigd
