#include "mta/bounce/dsn.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "mta/smtp/xtext.h"

namespace ec::bounce {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Header fields must stay one line whatever a peer sent.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

bool Contains(const std::string& haystack, const char* needle) {
  return haystack.find(needle) != std::string::npos;
}


// An xtext value for a report field: decoded when that gives printable ASCII, else left as
// xtext (which always is), so a field never holds control or 8-bit bytes.
std::string ReadableXtext(std::string_view xtext) {
  std::string decoded = smtp::XtextDecode(xtext);
  for (char ch : decoded) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 32 || c > 126) {
      return smtp::IsXtext(xtext) ? std::string(xtext) : smtp::XtextEncode(xtext);
    }
  }
  return decoded;
}

}  // namespace

std::string Rfc5322Date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string HeaderSection(const std::string& message) {
  size_t end = message.find("\r\n\r\n");
  if (end != std::string::npos) return message.substr(0, end + 4);
  end = message.find("\n\n");
  if (end != std::string::npos) return message.substr(0, end + 2);
  return message;
}

int BounceClass(int code, const std::string& enhanced, const std::string& text, bool expired) {
  if (expired) return 24;
  if (code >= 400 && code < 500) return 70;
  const std::string t = Lower(text);
  if (Contains(t, "relay")) return 54;
  if (Contains(t, "spam") || Contains(t, "blocked") || Contains(t, "blacklist")) return 51;
  if (enhanced.size() >= 3) {
    std::string subject = enhanced.substr(2);
    if (subject.rfind("1.", 0) == 0) return subject == "1.2" ? 21 : 10;
    if (subject == "2.2") return 22;
    if (subject == "2.3" || subject == "3.4") return 23;
    if (subject == "4.4" || subject == "4.7") return subject == "4.7" ? 24 : 21;
    if (subject.rfind("7.", 0) == 0) return 50;
    if (subject.rfind("2.", 0) == 0) return 25;
  }
  if (Contains(t, "user unknown") || Contains(t, "no such user") || Contains(t, "unknown user") ||
      Contains(t, "does not exist")) {
    return 10;
  }
  if (Contains(t, "quota") || Contains(t, "mailbox full")) return 22;
  if (code == 552) return 23;
  return code >= 500 ? 40 : 1;
}

std::string BuildDsn(const DsnInput& in) {
  std::string boundary = in.boundary;
  if (boundary.empty()) {
    boundary =
        in.queue_id + "." + std::to_string(static_cast<long long>(in.now)) + "/" + in.reporting_mta;
  }
  bool any_failed = false, any_relayed = false;
  for (const FailedRecipient& r : in.recipients) {
    any_failed |= r.action == Action::kFailed;
    any_relayed |= r.action == Action::kRelayed;
  }
  const std::string crlf = "\r\n";
  std::string m;
  m += "From: Mail Delivery System <" + OneLine(in.from) + ">" + crlf;
  m += "To: <" + OneLine(in.to) + ">" + crlf;
  m += std::string("Subject: ") +
       (any_failed ? "Undelivered Mail Returned to Sender" : "Successful Mail Delivery Report") +
       crlf;
  m += "Date: " + Rfc5322Date(in.now) + crlf;
  m += "Message-ID: <" + in.queue_id + ".dsn@" + OneLine(in.reporting_mta) + ">" + crlf;
  m += "Auto-Submitted: auto-replied" + crlf;
  m += "MIME-Version: 1.0" + crlf;
  m += "Content-Type: multipart/report; report-type=delivery-status;" + crlf;
  m += "\tboundary=\"" + boundary + "\"" + crlf;
  m += crlf;
  m += "This is a MIME-encapsulated message." + crlf + crlf;

  // Part 1: for people, failures first.
  m += "--" + boundary + crlf;
  m += "Content-Description: Notification" + crlf;
  m += "Content-Type: text/plain; charset=us-ascii" + crlf + crlf;
  m += "This is the mail system at host " + OneLine(in.reporting_mta) + "." + crlf + crlf;
  if (any_failed) {
    m += "Your message could not be delivered to one or more recipients." + crlf;
    m += "It is attached below." + crlf + crlf;
    for (const FailedRecipient& r : in.recipients) {
      if (r.action != Action::kFailed) continue;
      m += "<" + OneLine(r.address) + ">: ";
      if (r.expired) {
        m += "delivery time expired";
        if (!r.diagnostic.empty()) m += "; last error: " + OneLine(r.diagnostic);
      } else {
        m += r.remote_mta.empty() ? "" : "host " + OneLine(r.remote_mta) + " said: ";
        m += OneLine(r.diagnostic);
      }
      m += crlf;
    }
    m += crlf;
  }
  if (any_relayed) {
    m += "Your message was passed on for the recipients below to a mail server that does not" +
         crlf + "report delivery status. You will get no further notice of success; you may" +
         crlf + "still hear of a failure from other systems." + crlf + crlf;
    for (const FailedRecipient& r : in.recipients) {
      if (r.action != Action::kRelayed) continue;
      m += "<" + OneLine(r.address) + ">: relayed";
      if (!r.remote_mta.empty()) m += " to " + OneLine(r.remote_mta);
      if (!r.diagnostic.empty()) m += ", which said: " + OneLine(r.diagnostic);
      m += crlf;
    }
    m += crlf;
  }

  // Part 2: for programs (RFC 3464 §2). ENVID and ORCPT travel as xtext and are reported
  // decoded where that is plain text (RFC 3461).
  m += "--" + boundary + crlf;
  m += "Content-Description: Delivery report" + crlf;
  m += "Content-Type: message/delivery-status" + crlf + crlf;
  m += "Reporting-MTA: dns; " + OneLine(in.reporting_mta) + crlf;
  m += "X-Queue-ID: " + in.queue_id + crlf;
  if (!in.envid.empty()) m += "Original-Envelope-Id: " + ReadableXtext(in.envid) + crlf;
  m += "Arrival-Date: " + Rfc5322Date(in.arrival) + crlf;
  for (const FailedRecipient& r : in.recipients) {
    const bool failed = r.action == Action::kFailed;
    m += crlf;
    m += "Final-Recipient: rfc822; " + OneLine(r.address) + crlf;
    if (!r.orcpt.empty()) m += "Original-Recipient: " + ReadableXtext(r.orcpt) + crlf;
    m += std::string("Action: ") + (failed ? "failed" : "relayed") + crlf;
    std::string status = r.status.empty() ? (failed ? "5.0.0" : "2.0.0") : OneLine(r.status);
    m += "Status: " + status + crlf;
    if (!r.remote_mta.empty()) m += "Remote-MTA: dns; " + OneLine(r.remote_mta) + crlf;
    if (!r.diagnostic.empty()) m += "Diagnostic-Code: smtp; " + OneLine(r.diagnostic) + crlf;
    m += "Last-Attempt-Date: " + Rfc5322Date(in.now) + crlf;
  }
  m += crlf;

  // Part 3: the original.
  if (in.include != Include::kNone) {
    const char* what = any_failed ? "Undelivered Message" : "Relayed Message";
    m += "--" + boundary + crlf;
    if (in.include == Include::kAll) {
      m += std::string("Content-Description: ") + what + crlf;
      m += "Content-Type: message/rfc822" + crlf + crlf;
      m += in.original;
    } else {
      m += std::string("Content-Description: ") + what + " Headers" + crlf;
      m += "Content-Type: text/rfc822-headers" + crlf + crlf;
      m += HeaderSection(in.original);
    }
    if (m.size() < 2 || m.compare(m.size() - 2, 2, crlf) != 0) m += crlf;
  }
  m += crlf + "--" + boundary + "--" + crlf;
  return m;
}

std::string BuildRelayedDsn(DsnInput in) {
  for (FailedRecipient& r : in.recipients) {
    r.action = Action::kRelayed;
    r.expired = false;
  }
  if (in.include == Include::kAll) in.include = Include::kHeaders;
  return BuildDsn(in);
}

}  // namespace ec::bounce
