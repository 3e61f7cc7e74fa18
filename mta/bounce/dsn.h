// RFC 3464 delivery status notifications: the failure report ecmta sends to a message's
// envelope sender when recipients fail permanently or expire, and the bounce classes
// (Momentum's numbering) the bouncelog records. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace ec::bounce {

struct FailedRecipient {
  std::string address;
  std::string orcpt;       // DSN ORCPT as received ("rfc822;x@y"), may be empty
  std::string status;      // RFC 3463 code, "5.1.1"
  std::string diagnostic;  // the remote reply, "550 5.1.1 no such user"; empty if none
  std::string remote_mta;  // IP or host that answered; empty if none
  bool expired = false;    // message_expiration passed rather than a 5xx
};

enum class Include { kHeaders, kNone, kAll };

struct DsnInput {
  std::string reporting_mta;  // our hostname
  std::string from;           // mailerdaemon address
  std::string to;             // the original envelope sender
  std::string queue_id;       // of the original message
  std::string envid;          // DSN ENVID, may be empty
  std::time_t arrival = 0;
  std::time_t now = 0;
  std::vector<FailedRecipient> recipients;
  std::string original;  // the stored original message (headers + body)
  Include include = Include::kHeaders;
  std::string boundary;  // empty: derived from queue_id and now
};

// The complete message (headers and body, CRLF line ends), ready for the spool.
std::string BuildDsn(const DsnInput& in);

// The original's header section (up to and including the empty line), or all of it if there is
// no body.
std::string HeaderSection(const std::string& message);

// Momentum's bounce classes (a subset): 1 undetermined, 10 invalid recipient, 21 DNS failure,
// 22 mailbox full, 23 too large, 24 timeout (expired), 25 admin failure, 40 generic bounce,
// 50 mail block, 51 spam block, 54 relaying denied, 70 transient failure.
int BounceClass(int code, const std::string& enhanced, const std::string& text, bool expired);

// "Sun, 29 Nov 2026 05:30:00 +0000".
std::string Rfc5322Date(std::time_t t);

}  // namespace ec::bounce
