// RFC 5321 §4.1.2 mailbox and path syntax: Mailbox (local part + domain or address literal),
// ParsePath for "<...>" reverse/forward paths (source routes accepted and dropped), length
// limits of §4.5.3.1, and SMTPUTF8 (RFC 6531) addresses when the transaction allows them.
// Pure functions over string_views; no threads, no allocation beyond the returned strings.
#pragma once

#include <string>
#include <string_view>

namespace ec::smtp {

inline constexpr size_t kMaxLocalPartLength = 64;
inline constexpr size_t kMaxDomainLength = 255;
inline constexpr size_t kMaxPathLength = 256;  // including "<" and ">"

struct Mailbox {
  std::string local_part;  // as written, quotes included if it was quoted
  std::string domain;      // "example.com" or "[192.0.2.1]" / "[IPv6:2001:db8::1]"; empty only
                           // for the special recipient <postmaster>
  bool quoted_local = false;
  bool domain_is_literal = false;

  bool empty() const { return local_part.empty() && domain.empty(); }
  // "local@domain", or "postmaster" for the bare postmaster recipient, or "" for the null path.
  std::string ToString() const;
};

enum class PathError {
  kNone,
  kSyntax,          // not a <path> at all, bad characters
  kLocalTooLong,    // > 64 octets
  kDomainTooLong,   // > 255 octets
  kPathTooLong,     // > 256 octets
  kUtf8NotAllowed,  // non-ASCII without SMTPUTF8
};

struct PathOptions {
  bool allow_null = false;        // MAIL FROM:<>
  bool allow_postmaster = false;  // RCPT TO:<postmaster> (no domain), RFC 5321 §4.5.1
  bool allow_utf8 = false;        // the transaction was opened with SMTPUTF8
  bool allow_ip_literal = true;   // allow_ip_literal option
};

// Parses "<...>" at the start of `text`; on success stores the mailbox (empty for "<>") and the
// number of bytes consumed, and returns kNone.
PathError ParsePath(std::string_view text, const PathOptions& options, Mailbox* mailbox,
                    size_t* consumed);

// Domain syntax (RFC 5321 sub-domain rules; U-labels allowed when allow_utf8).
bool IsValidDomain(std::string_view domain, bool allow_utf8);
// "[1.2.3.4]", "[IPv6:...]" (general literals "[tag:...]" are refused).
bool IsValidAddressLiteral(std::string_view literal);
// Well-formed UTF-8 without overlongs or surrogates.
bool IsValidUtf8(std::string_view text);

}  // namespace ec::smtp
