#include "mta/smtp/address.h"

#include <arpa/inet.h>
#include <strings.h>

#include <cctype>
#include <cstring>

namespace ec::smtp {
namespace {

bool IsAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool IsAtext(unsigned char c) {
  if (IsAlnum(c)) return true;
  return c != 0 && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

bool IsAsciiOnly(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Dot-string: Atom *("." Atom), atext plus UTF-8 bytes when allowed.
bool IsValidDotString(std::string_view s, bool allow_utf8) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (unsigned char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!IsAtext(c) && !(allow_utf8 && c >= 0x80)) {
      return false;
    }
    prev = static_cast<char>(c);
  }
  return true;
}

// Quoted-string body (between the quotes): qtextSMTP / quoted-pairSMTP.
bool IsValidQuotedContent(std::string_view s, bool allow_utf8) {
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (c == '\\') {
      if (++i >= s.size()) return false;
      const unsigned char q = s[i];
      if (q < 32 || q > 126) return false;
    } else if (c == '"') {
      return false;
    } else if (c >= 0x80) {
      if (!allow_utf8) return false;
    } else if (c < 32 || c > 126) {
      return false;
    }
  }
  return true;
}

// Finds the end of a quoted string starting at s[0] == '"'; returns the index of the closing
// quote or npos.
size_t FindQuoteEnd(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string Mailbox::ToString() const {
  if (domain.empty()) return local_part;
  return local_part + "@" + domain;
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= text.size()) return false;
      const unsigned char cc = text[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool IsValidDomain(std::string_view domain, bool allow_utf8) {
  if (domain.empty() || domain.size() > kMaxDomainLength) return false;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    const std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    // sub-domain = Let-dig [Ldh-str]; U-labels (RFC 6531) are any UTF-8 outside ASCII.
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (unsigned char c : label) {
      if (IsAlnum(c) || c == '-') continue;
      if (allow_utf8 && c >= 0x80) continue;
      return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !allow_utf8 || IsValidUtf8(domain);
}

bool IsValidAddressLiteral(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string_view inner = literal.substr(1, literal.size() - 2);
  char buf[64];
  unsigned char out[16];
  if (inner.size() >= 5 && (inner.substr(0, 5) == "IPv6:" || inner.substr(0, 5) == "ipv6:" ||
                            inner.substr(0, 5) == "IPV6:")) {
    inner.remove_prefix(5);
    if (inner.empty() || inner.size() >= sizeof(buf)) return false;
    // inet_pton stops at a NUL: only hex digits, ':' and '.' (IPv4 tail) may appear.
    for (char c : inner) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::memcpy(buf, inner.data(), inner.size());
    buf[inner.size()] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
  }
  if (inner.empty() || inner.size() >= sizeof(buf)) return false;
  for (char c : inner) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  std::memcpy(buf, inner.data(), inner.size());
  buf[inner.size()] = '\0';
  return inet_pton(AF_INET, buf, out) == 1;
}

PathError ParsePath(std::string_view text, const PathOptions& options, Mailbox* mailbox,
                    size_t* consumed) {
  *mailbox = Mailbox();
  if (text.empty() || text.front() != '<') return PathError::kSyntax;
  // Find the closing '>' outside a quoted local part.
  size_t close = std::string_view::npos;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] == '"') {
      const size_t q = FindQuoteEnd(text.substr(i));
      if (q == std::string_view::npos) return PathError::kSyntax;
      i += q;
    } else if (text[i] == '>') {
      close = i;
      break;
    }
  }
  if (close == std::string_view::npos) return PathError::kSyntax;
  if (close + 1 > kMaxPathLength) return PathError::kPathTooLong;
  std::string_view inner = text.substr(1, close - 1);
  *consumed = close + 1;
  if (!options.allow_utf8 && !IsAsciiOnly(inner)) return PathError::kUtf8NotAllowed;
  if (inner.empty()) return options.allow_null ? PathError::kNone : PathError::kSyntax;

  // Source route "@a,@b:" (RFC 5321 §4.1.2, C.): must be accepted, must be ignored.
  if (inner.front() == '@') {
    const size_t colon = inner.find(':');
    if (colon == std::string_view::npos) return PathError::kSyntax;
    std::string_view route = inner.substr(0, colon);
    while (!route.empty()) {
      if (route.front() != '@') return PathError::kSyntax;
      const size_t comma = route.find(',');
      const std::string_view host =
          route.substr(1, comma == std::string_view::npos ? std::string_view::npos : comma - 1);
      if (!IsValidDomain(host, options.allow_utf8) && !IsValidAddressLiteral(host)) {
        return PathError::kSyntax;
      }
      if (comma == std::string_view::npos) break;
      route.remove_prefix(comma + 1);
    }
    inner.remove_prefix(colon + 1);
    if (inner.empty()) return PathError::kSyntax;
  }

  // Local part: quoted string or dot-string, then "@".
  std::string_view local;
  std::string_view rest;
  if (inner.front() == '"') {
    const size_t q = FindQuoteEnd(inner);
    if (q == std::string_view::npos) return PathError::kSyntax;
    if (!IsValidQuotedContent(inner.substr(1, q - 1), options.allow_utf8)) {
      return PathError::kSyntax;
    }
    local = inner.substr(0, q + 1);
    rest = inner.substr(q + 1);
    mailbox->quoted_local = true;
  } else {
    const size_t at = inner.rfind('@');
    local = inner.substr(0, at);
    rest = at == std::string_view::npos ? std::string_view() : inner.substr(at);
    if (!IsValidDotString(local, options.allow_utf8)) return PathError::kSyntax;
  }
  if (local.size() > kMaxLocalPartLength) return PathError::kLocalTooLong;
  if (options.allow_utf8 && !IsValidUtf8(local)) return PathError::kSyntax;

  if (rest.empty()) {
    // Only <postmaster> may omit the domain (case-insensitive).
    if (options.allow_postmaster && !mailbox->quoted_local && local.size() == 10 &&
        strncasecmp(local.data(), "postmaster", 10) == 0) {
      mailbox->local_part = std::string(local);
      return PathError::kNone;
    }
    return PathError::kSyntax;
  }
  if (rest.front() != '@') return PathError::kSyntax;
  std::string_view domain = rest.substr(1);
  if (domain.size() > kMaxDomainLength) return PathError::kDomainTooLong;
  if (!domain.empty() && domain.front() == '[') {
    if (!options.allow_ip_literal || !IsValidAddressLiteral(domain)) return PathError::kSyntax;
    mailbox->domain_is_literal = true;
  } else if (!IsValidDomain(domain, options.allow_utf8)) {
    return PathError::kSyntax;
  }
  mailbox->local_part = std::string(local);
  mailbox->domain = std::string(domain);
  return PathError::kNone;
}

}  // namespace ec::smtp
