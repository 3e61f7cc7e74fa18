#include "mta/smtp/session_policy.h"

namespace ec::smtp {

Result<Extensions> ParseSmtpExtensions(const std::vector<std::string>& keywords) {
  Extensions ext;
  ext = Extensions{.pipelining = false,
                   .size = false,
                   .eightbitmime = false,
                   .enhanced_status_codes = false,
                   .starttls = false,
                   .auth_plain = false,
                   .auth_login = false,
                   .chunking = false,
                   .binarymime = false,
                   .smtputf8 = false,
                   .dsn = false};
  for (const std::string& entry : keywords) {
    const Command words = ParseCommandLine(entry);  // first word + the rest
    const std::string_view k = words.verb_text;
    if (EqualsIgnoreCase(k, "AUTH")) {
      std::string_view mechs = words.args;
      if (mechs.empty()) return InvalidArgument("smtp_extensions: AUTH needs mechanisms");
      while (!mechs.empty()) {
        const size_t sp = mechs.find(' ');
        const std::string_view m = mechs.substr(0, sp);
        if (EqualsIgnoreCase(m, "PLAIN")) {
          ext.auth_plain = true;
        } else if (EqualsIgnoreCase(m, "LOGIN")) {
          ext.auth_login = true;
        } else if (!m.empty()) {
          return InvalidArgument("smtp_extensions: unsupported AUTH mechanism \"" + std::string(m) +
                                 "\"");
        }
        mechs = sp == std::string_view::npos ? std::string_view() : mechs.substr(sp + 1);
      }
      continue;
    }
    if (!words.args.empty()) {
      return InvalidArgument("smtp_extensions: \"" + entry + "\" takes no argument");
    }
    if (EqualsIgnoreCase(k, "PIPELINING")) {
      ext.pipelining = true;
    } else if (EqualsIgnoreCase(k, "SIZE")) {
      ext.size = true;
    } else if (EqualsIgnoreCase(k, "8BITMIME")) {
      ext.eightbitmime = true;
    } else if (EqualsIgnoreCase(k, "ENHANCEDSTATUSCODES")) {
      ext.enhanced_status_codes = true;
    } else if (EqualsIgnoreCase(k, "STARTTLS")) {
      ext.starttls = true;
    } else if (EqualsIgnoreCase(k, "CHUNKING")) {
      ext.chunking = true;
    } else if (EqualsIgnoreCase(k, "BINARYMIME")) {
      ext.binarymime = true;
    } else if (EqualsIgnoreCase(k, "SMTPUTF8")) {
      ext.smtputf8 = true;
    } else if (EqualsIgnoreCase(k, "DSN")) {
      ext.dsn = true;
    } else {
      return InvalidArgument("smtp_extensions: unknown extension \"" + entry + "\"");
    }
  }
  return ext;
}

}  // namespace ec::smtp
