#include "mta/smtp/message_assembly.h"

#include <ctime>

namespace ec::smtp {

std::string FormatRfc5322Date(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

std::string BuildReceivedHeader(const Envelope& envelope, std::string_view received_hostname) {
  std::string h = "Received: from ";
  h += envelope.helo.empty() ? "unknown" : envelope.helo;
  h += " (";
  h += envelope.client_rdns.empty() ? "unknown" : envelope.client_rdns;
  h += " [";
  h += envelope.client_ip;
  h += "])\r\n\tby ";
  h += received_hostname;
  h += " (ecmta) with ";
  h += envelope.protocol;
  h += " id ";
  h += envelope.queue_id;
  if (envelope.tls) {
    h += "\r\n\t(version=" + envelope.tls->version + " cipher=" + envelope.tls->cipher +
         " bits=" + std::to_string(envelope.tls->bits) + ")";
  }
  h += "\r\n\t";
  if (envelope.rcpts.size() == 1) h += "for <" + envelope.rcpts.front() + ">; ";
  h += FormatRfc5322Date(envelope.received_at);
  h += "\r\n";
  return h;
}

std::string BuildPrependedHeaders(const Envelope& envelope, const HeaderInfo& headers,
                                  const SessionPolicy& policy) {
  std::string out;
  if (policy.trace_headers) out = BuildReceivedHeader(envelope, policy.ReceivedHostname());
  if (policy.messageid_header == MessageIdPolicy::kIfNeeded && !headers.has_message_id) {
    const auto secs =
        std::chrono::duration_cast<std::chrono::seconds>(envelope.received_at.time_since_epoch())
            .count();
    out += "Message-ID: <" + std::to_string(secs) + "." + envelope.queue_id + "@" +
           policy.ReceivedHostname() + ">\r\n";
  }
  if (policy.date_header == DateHeaderPolicy::kIfNeeded && !headers.has_date) {
    out += "Date: " + FormatRfc5322Date(envelope.received_at) + "\r\n";
  }
  // A message without a header section must not have its first body line read as a header.
  const bool body_opens_with_blank_line = !headers.present && headers.end_offset == 2;
  if (!out.empty() && !headers.present && !body_opens_with_blank_line) out += "\r\n";
  return out;
}

}  // namespace ec::smtp
