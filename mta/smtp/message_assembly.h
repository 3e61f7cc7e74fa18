// Message assembly: the Received: trace header (RFC 5321 §4.4, with-protocols of RFC 3848) and
// the Message-ID:/Date: headers added when a message lacks them. Pure functions.
#pragma once

#include <chrono>
#include <string>

#include "mta/smtp/data_reader.h"
#include "mta/smtp/session_policy.h"

namespace ec::smtp {

// "Sun, 22 Nov 2026 03:23:11 +0000" (RFC 5322 §3.3, UTC).
std::string FormatRfc5322Date(std::chrono::system_clock::time_point when);

// "Received: from <helo> (<rdns> [<ip>])\r\n\tby <host> (ecmta) with ESMTPSA id <qid>\r\n\t
// (version=... cipher=...)\r\n\tfor <rcpt>; <date>\r\n". "for" only with a single recipient.
std::string BuildReceivedHeader(const Envelope& envelope, std::string_view received_hostname);

// All headers to prepend, per policy: Received: (if trace_headers), then Message-ID: and Date:
// when missing and the policy says ifneeded.
std::string BuildPrependedHeaders(const Envelope& envelope, const HeaderInfo& headers,
                                  const SessionPolicy& policy);

}  // namespace ec::smtp
