// RFC 3464 delivery status notifications: the failure report ecmta sends to a message's
// envelope sender when recipients fail permanently or expire, the "relayed" report (RFC 3461)
// for recipients that asked for NOTIFY=SUCCESS but went to a server without DSN, the
// xtext coding of RFC 3461 §4, and the bounce classes (Momentum's numbering) the bouncelog
// records. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace ec::bounce {

// RFC 3464 §2.3.3 actions this MTA reports.
enum class Action { kFailed, kRelayed };

struct FailedRecipient {
  std::string address;
  std::string orcpt;       // DSN ORCPT as received ("rfc822;x@y", xtext), may be empty
  std::string status;      // RFC 3463 code, "5.1.1"; empty: 5.0.0 (failed) or 2.0.0 (relayed)
  std::string diagnostic;  // the remote reply, "550 5.1.1 no such user"; empty if none
  std::string remote_mta;  // IP or host that answered; empty if none
  bool expired = false;    // message_expiration passed rather than a 5xx
  Action action = Action::kFailed;
};
// The same record serves every action; this name reads better where nothing failed.
using ReportedRecipient = FailedRecipient;

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

// The complete message (headers and body, CRLF line ends), ready for the spool. Each
// recipient's block says its own action; the subject and the human-readable part speak of
// failures when any recipient failed, else of successful relaying.
std::string BuildDsn(const DsnInput& in);

// The success report for recipients that asked for NOTIFY=SUCCESS and were delivered to a
// server that does not offer DSN (so it will never report success itself): every recipient is
// marked Action: relayed, Status: 2.0.0 unless given. RFC 3461 §4.3: a report without failures
// returns the original's headers only, so kAll becomes kHeaders (kNone stays kNone).
std::string BuildRelayedDsn(DsnInput in);


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
