// What a ServerSession needs from outside: SessionPolicy (the listener's options as a plain
// struct with RFC-sensible defaults; the listener fills it from the config snapshot),
// ConnectionInfo/TlsInfo (the peer), Envelope/ReceivedMessage (what is handed to the spool) and
// SessionHooks (the actions the caller carries out: TLS handshake, credentials, queue ids,
// storing). A policy is immutable while sessions use it; everything here is a value type except
// SessionHooks, which the caller owns and which outlives the session.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "mta/smtp/command.h"
#include "mta/smtp/data_reader.h"
#include "mta/smtp/relay.h"
#include "mta/spool/record.h"

namespace ec::smtp {

// EHLO keywords offered (smtp_extensions). BINARYMIME is offered only together with CHUNKING.
struct Extensions {
  bool pipelining = true;
  bool size = true;
  bool eightbitmime = true;
  bool enhanced_status_codes = true;
  bool starttls = true;    // offered only before TLS and when SessionPolicy::tls_available
  bool auth_plain = true;  // offered only under TLS (or auth_requires_tls=false) and when
  bool auth_login = true;  //   SessionPolicy::auth_available
  bool chunking = true;
  bool binarymime = false;
  bool smtputf8 = true;
  bool dsn = true;  // RFC 3461: RET/ENVID on MAIL, NOTIFY/ORCPT on RCPT
};

// Builds the set from smtp_extensions entries such as "PIPELINING", "AUTH LOGIN",
// "AUTH PLAIN LOGIN", "SIZE". Everything not listed is off; an unknown keyword is an error.
Result<Extensions> ParseSmtpExtensions(const std::vector<std::string>& keywords);

enum class DateHeaderPolicy { kIgnore, kPedantic, kIfNeeded };  // rfc2822_date_header
enum class MessageIdPolicy { kIgnore, kIfNeeded };              // rfc2822_messageid_header
enum class StartTlsInjectionPolicy {
  kIgnore,  // discard whatever was pipelined behind STARTTLS and start TLS
  kReject,  // refuse STARTTLS (554 5.5.1) and close: the client is broken or an attacker
};

// The largest message the spool can store (its hard record limit) less room for the headers
// added at reception: a larger one is refused 552 5.3.4 whatever max_message_size says.
inline constexpr uint64_t kMaxStorableMessageSize = spool::kMaxBodyLen - (64u << 10);

struct SessionPolicy {
  std::string banner_hostname = "localhost";
  std::string static_banner;      // full greeting replacing "220 <host> ESMTP ecmta"; "220 ..."
  std::string received_hostname;  // for Received:; banner_hostname when empty
  Extensions extensions;
  bool tls_available = false;     // a TLS certificate is configured
  bool auth_available = false;    // an AUTH backend is configured
  bool auth_requires_tls = true;  // AUTH only after STARTTLS (538 5.7.11 otherwise)

  uint64_t max_message_size = 0;             // octets; 0 = unlimited (up to max_storable_size)
  size_t max_recipients_per_message = 0;     // 0 = unlimited (up to recipient_ceiling)
  size_t max_receptions_per_connection = 0;  // 0 = unlimited
  size_t max_command_line_length = 512;      // incl. CRLF (RFC 5321 §4.5.3.1.4)
  size_t max_auth_line_length = 12288;       // AUTH lines (RFC 4954 §4)
  size_t max_errors = 20;                    // protocol errors before 421; 0 = unlimited
  // Not options: bounds that hold whatever the configuration says, so one session's memory and
  // its spool record stay bounded. Tests lower them.
  uint64_t max_storable_size = kMaxStorableMessageSize;
  size_t recipient_ceiling = 10000;  // envelope of 10000 longest RCPTs < spool::kMaxMetaLen
  // Commands that move no transaction forward (NOOP, RSET, VRFY, HELP, HELO/EHLO after the
  // first, anything refused with a 4xx) allowed since the last accepted message; each one past
  // this counts as an error toward max_errors, as Postfix's smtpd_junk_command_limit. 0 = none.
  size_t max_junk_commands = 100;

  bool require_ehlo = false;
  bool allow_null_envelope_sender = true;
  bool allow_ip_literal = true;
  RelayConfig relay;
  std::string reconfig_message = "4.3.2 Reconfiguration in progress";

  LineEndingPolicy lone_lf_in_body = LineEndingPolicy::kFix;  // rfc2822_lone_lf_in_body
  size_t max_line_length = 0;         // rfc2822_max_line_length; 0 = ignore; else refuse
  size_t max_header_line_length = 0;  // 0 = ignore; else refuse
  DateHeaderPolicy date_header = DateHeaderPolicy::kIfNeeded;
  MessageIdPolicy messageid_header = MessageIdPolicy::kIfNeeded;
  bool trace_headers = true;  // rfc2822_trace_headers: prepend Received:
  StartTlsInjectionPolicy starttls_injection = StartTlsInjectionPolicy::kReject;

  const std::string& ReceivedHostname() const {
    return received_hostname.empty() ? banner_hostname : received_hostname;
  }
  // The size limit in force: max_message_size within what the spool can store.
  uint64_t MessageSizeLimit() const {
    return max_message_size != 0 && max_message_size < max_storable_size ? max_message_size
                                                                         : max_storable_size;
  }
  size_t RecipientLimit() const {
    return max_recipients_per_message != 0 && max_recipients_per_message < recipient_ceiling
               ? max_recipients_per_message
               : recipient_ceiling;
  }
};

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  int bits = 0;
  std::string peer_subject;  // client certificate subject, if any
  bool peer_verified = false;
};

struct ConnectionInfo {
  std::string client_ip;    // "192.0.2.1" / "2001:db8::1"
  std::string client_rdns;  // verified reverse name, or empty if unknown
  uint16_t client_port = 0;
  std::optional<TlsInfo> tls_on_connect;  // implicit TLS (port 465)
};

struct Envelope {
  std::string queue_id;
  std::string mail_from;           // "" for the null sender <>
  std::vector<std::string> rcpts;  // "local@domain" (or "postmaster")
  std::vector<RcptDsn> rcpt_dsn;   // parallel to rcpts: NOTIFY/ORCPT of each
  spool::DsnRet dsn_ret = spool::DsnRet::kUnset;
  std::string dsn_envid;  // as sent (xtext); empty if not given
  std::string helo;
  std::string protocol;  // "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA"
  std::string client_ip;
  std::string client_rdns;
  std::string auth_user;  // empty unless AUTH succeeded
  std::optional<TlsInfo> tls;
  BodyType body_type = BodyType::k7Bit;
  bool smtputf8 = false;
  std::optional<uint64_t> declared_size;
  std::chrono::system_clock::time_point received_at;
};

// A message ready to be made durable: `headers` (Received:, added Message-ID:/Date:) go in front
// of the body, which the hooks received through the BodySink they gave out (OpenBody): the
// message exactly as decoded (CRLF line ends), body_size octets.
struct ReceivedMessage {
  Envelope envelope;
  std::string headers;
  uint64_t body_size = 0;
  uint64_t size() const { return headers.size() + body_size; }
};

// kPending: the check runs elsewhere (crypt(3) is slow by design); the owner calls
// ServerSession::OnAuthChecked with the verdict later, and the session reads no input until then.
enum class AuthVerdict { kAccepted, kRejected, kTemporaryFailure, kPending };

// Actions the session asks of its owner. Called from inside ServerSession's methods, on the
// session's thread. A hook must not call ServerSession::OnBytes; it may call OnMessageStored /
// OnMessageStoreFailed / OnTlsEstablished / OnTlsFailed (re-entrantly) or later.
class SessionHooks {
 public:
  virtual ~SessionHooks() = default;
  // The session queued "220 2.0.0 Ready to start TLS": send TakeOutput() in plaintext, then run
  // the handshake, then call OnTlsEstablished or OnTlsFailed. Bytes read before the handshake
  // must go to TLS, never to OnBytes.
  virtual void StartTls() = 0;
  virtual AuthVerdict CheckCredentials(std::string_view user, std::string_view password) = 0;
  // A fresh queue id, used in Received: and Message-ID:.
  virtual std::string NewQueueId() = 0;
  // Where the body of the message now starting (DATA, first BDAT) goes as it is decoded, so it
  // need not be held in memory. Owned by the hooks; the session uses it until it calls
  // StoreMessage (which takes what it holds) or tells it to Discard (the message is refused or
  // the transaction aborted), and never after the next OpenBody.
  virtual BodySink* OpenBody() = 0;
  // Make the message (`headers`, then the body given to the sink) durable, then call
  // OnMessageStored or OnMessageStoreFailed. Until then the session reads no further input.
  virtual void StoreMessage(ReceivedMessage message) = 0;
  virtual std::chrono::system_clock::time_point Now() { return std::chrono::system_clock::now(); }
  // A transaction is about to start (a MAIL command passed its checks): a reply refuses it (a
  // used-up shared throttle: 451 4.7.1), nullopt lets it start.
  virtual std::optional<Reply> AdmitTransaction() { return std::nullopt; }
  // For the rejectlog: a command (or "DATA"/"BDAT" for the message) got a 4xx/5xx reply.
  virtual void OnRejected(std::string_view command, const Reply& reply) {}
};

}  // namespace ec::smtp
