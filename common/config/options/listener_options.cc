// Inbound options: listeners, Listen sockets, Peer ACLs, pathways, SMTP policy, relaying, RFC
// conformance, AUTH and inbound TLS.
#include "common/config/schema.h"

namespace ec::config {

namespace {
std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
}  // namespace

void RegisterListenerOptions(SchemaRegistry* r) {
  using T = OptionType;
  using S = Support;
  using namespace scope_sets;
  auto add = [r](OptionSpec s) { r->AddOption(std::move(s)); };
  const auto kLsnBus = Plus(kLsn, {"msgcserver_listener"});

  // Sockets.
  // In a Peer scope, as in Momentum: enable = false refuses those clients at connect. Read by
  // mta/server/inbound_config.cc at every reload; common/control/listener_config.cc and
  // mta/logship/eccluster_listener.cc read it once, when the console and ECCluster open.
  add({.name = "enable",
       .type = T::kBool,
       .default_text = "true",
       .scopes = {"esmtp_listener", "listen", "peer"},
       .doc = "Switch the ESMTP listener or a Listen socket off without deleting it (a Listen of "
              "Control_Listener or ECCluster_Listener: at start only); in a Peer scope, false "
              "refuses those clients at connect (554 5.7.1)",
       .support = S::kImplemented});
  add({.name = "enable",
       .type = T::kBool,
       .default_text = "true",
       .scopes = {"control_listener", "eccluster_listener"},
       .reloadable = false,
       .doc = "Switch the listener's Listen sockets off (Control_Listener: its unix socket "
              "always opens); read when it opens (restart)",
       .support = S::kImplemented});
  add({.name = "enable",
       .type = T::kBool,
       .default_text = "true",
       .scopes = {"ecstream_listener", "msgcserver_listener"},
       .doc = "Switch the listener off (ecmta opens no such listener)"});
  add({.name = "listen_backlog",
       .type = T::kInt,
       .default_text = "500",
       .scopes = kLsn,
       .reloadable = false,  // an open socket is kept as it is (EsmtpListener::OpenSockets)
       .min = 1,
       .max = 65535,
       .doc = "listen() backlog of ESMTP Listen sockets (other listeners: the system's); set when "
              "the socket opens, so a reload applies it only to a Listen it adds",
       .support = S::kImplemented});
  add({.name = "accept_queue_backlog",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kLsnBus,
       .min = 0,
       .doc = "Accept queue backlog"});
  add({.name = "pool_name",
       .type = T::kString,
       .scopes = kLsn,
       .doc = "Thread pool that runs threaded accept()"});
  add({.name = "file_mode",
       .type = T::kOctal,
       .default_text = "0660",
       .scopes = kLsnBus,
       .reloadable = false,
       .doc = "Permissions of a unix-socket listener (the console socket; others are TCP); "
              "no access for others is accepted; set when the socket is made (restart)",
       .support = S::kImplemented});
  add({.name = "group",
       .type = T::kString,
       .scopes = {"control_listener"},
       .reloadable = false,
       .doc = "Group (name or number) given the console unix socket; unset: the daemon's group",
       .support = S::kImplemented});
  add({.name = "tcp_recv_buffer_size",
       .type = T::kBytes,
       .default_text = "4096",
       .scopes = kLsn,
       .doc = "Socket receive buffer; 0 = OS-managed"});
  add({.name = "tcp_send_buffer_size",
       .type = T::kBytes,
       .default_text = "4096",
       .scopes = kLsn,
       .doc = "Socket send buffer; 0 = OS-managed"});
  add({.name = "disable_nagle_algorithm",
       .type = T::kBool,
       .default_text = "false",
       .scopes = Plus(kLsn, {"global"}),
       .doc = "Set TCP_NODELAY on sockets"});
  add({.name = "events_per_iter",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kLsn,
       .min = 0,
       .doc = "Connections dispatched per iteration with threaded accept"});
  add({.name = "event_loop",
       .type = T::kString,
       .scopes = {"ecstream_listener", "esmtp_listener", "listen"},
       .reloadable = false,
       .doc = "Run this listener on the named event-loop pool"});
  add({.name = "proxy_protocol",
       .type = T::kBool,
       .default_text = "false",
       .scopes = {"control_listener", "ecstream_listener", "esmtp_listener", "listen", "peer"},
       .doc = "Require a PROXY header and take the client address from it"});
  add({.name = "timeout",
       .type = T::kSeconds,
       .default_text = "60",
       .scopes = {"control_listener"},
       .doc = "Idle timeout of console connections",
       .support = S::kPlanned});

  // Sessions and SMTP policy.
  add({.name = "listener_sessions",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kIn,
       .min = 0,
       .doc = "Session cap of this listener (per CIDR in Peer); full -> 421 4.4.5",
       .support = S::kImplemented});
  add({.name = "service_sessions",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kIn,
       .min = 0,
       .doc = "Session cap over all listeners of the service",
       .support = S::kImplemented});
  // Not a Momentum option (Momentum caps a Peer CIDR as a whole): without a per-address cap
  // one client can take every listener_sessions slot.
  add({.name = "sessions_per_client_address",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kIn,
       .min = 0,
       .doc = "Concurrent sessions from one client IP address (0 = unlimited); more -> 421 4.7.0 "
              "(ecmta extension)",
       .support = S::kImplemented});
  add({.name = "idle_time",
       .type = T::kSeconds,
       .default_text = "300",
       .scopes = kIn,
       .doc = "Drop an inbound client idle this long; 0 = never",
       .support = S::kImplemented});
  // Not a Momentum option: a slow-drip client that keeps resetting idle_time must still end.
  add({.name = "max_session_time",
       .type = T::kSeconds,
       .default_text = "1800",
       .scopes = kIn,
       .doc = "Drop an inbound session (421 4.4.2) this long after it connected; 0 = never "
              "(ecmta extension)",
       .support = S::kImplemented});
  add({.name = "reconfig_message",
       .type = T::kString,
       .default_text = "\"4.3.2 Reconfiguration in progress\"",
       .scopes = {"esmtp_listener"},
       .doc = "Text of the 421 sent when a session finds the configuration reloaded",
       .support = S::kImplemented});
  add({.name = "banner_hostname",
       .type = T::kString,
       .scopes = kIn,
       .doc = "Host name in the 220 greeting",
       .support = S::kImplemented});
  add({.name = "received_hostname",
       .type = T::kString,
       .scopes = kIn,
       .doc = "Host name written into Received: headers",
       .support = S::kImplemented});
  add({.name = "static_banner",
       .type = T::kString,
       .scopes = kIn,
       .doc = "Full greeting replacement; must begin with 220",
       .support = S::kImplemented});
  add({.name = "max_message_size",
       .type = T::kBytes,
       .default_text = "0",
       .scopes = kIn,
       .doc = "Size limit per message; 0 = none",
       .support = S::kImplemented});
  add({.name = "max_recipients_per_message",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kIn,
       .min = 0,
       .doc = "RCPT limit per message; 0 = none",
       .support = S::kImplemented});
  add({.name = "max_receptions_per_connection",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kInG,
       .min = 0,
       .doc = "Messages per inbound session, then 421; 0 = none",
       .support = S::kImplemented});
  add({.name = "max_recipients_per_connection",
       .type = T::kInt,
       .default_text = "0",
       .scopes = {"binding", "binding_group", "domain", "global", "esmtp_listener", "listen",
                  "peer"},
       .min = 0,
       .doc = "Recipients per session, inbound and outbound; 0 = none"});
  add({.name = "smtp_extensions",
       .type = T::kList,
       .scopes = kIn,
       .doc = "EHLO keywords offered, e.g. ( \"ENHANCEDSTATUSCODES\" \"STARTTLS\" )",
       .support = S::kImplemented});
  add({.name = "context",
       .type = T::kDict,
       .scopes = kIn,
       .doc = "Preset connection-context pairs"});
  // common/config/resolve.cc (InboundChain) puts the named Pathway in every inbound lookup.
  add({.name = "pathway",
       .type = T::kString,
       .scopes = {"esmtp_listener", "listen", "peer"},
       .doc = "Attach this Pathway's options to the listener, Listen or Peer",
       .support = S::kImplemented});
  add({.name = "allow_ip_literal",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kInG,
       .doc = "Accept [address-literal] addresses",
       .support = S::kImplemented});
  add({.name = "allow_null_envelope_sender",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kInG,
       .doc = "Accept MAIL FROM:<>",
       .support = S::kImplemented});
  add({.name = "allow_trailing_whitespace_in_commands",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kInG,
       .doc = "Tolerate blanks after SMTP commands"});
  add({.name = "require_ehlo",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kInG,
       .doc = "Answer 501 to commands before HELO/EHLO",
       .support = S::kImplemented});
  add({.name = "domain_for_unqualified_recipient_addresses",
       .type = T::kString,
       .scopes = kInG,
       .doc = "Domain appended to recipients without @domain"});
  add({.name = "domain_for_unqualified_sender_address",
       .type = T::kString,
       .scopes = kInG,
       .doc = "Domain appended to a sender without @domain"});
  add({.name = "default_charset",
       .type = T::kString,
       .default_text = "us-ascii",
       .scopes = kPw,
       .doc = "Charset assumed when a message declares none"});
  add({.name = "inbound_throttle_messages",
       .type = T::kRate,
       .scopes = kPw,
       .doc = "Cap on the message acceptance rate"});

  // Relaying.
  add({.name = "relay_hosts",
       .type = T::kCidrList,
       .scopes = kInG,
       .doc = "Client networks allowed to relay (skip AUTH)",
       .support = S::kImplemented});
  add({.name = "relay_domains",
       .type = T::kList,
       .scopes = kPw,
       .doc = "Recipient domains accepted for relay (left glob *.x.com)",
       .support = S::kImplemented});
  add({.name = "relay_for_sending_domains",
       .type = T::kList,
       .scopes = kIn,
       .doc = "Relay allowed when the sender domain matches"});
  add({.name = "open_relay",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kIn,
       .doc = "Anyone matching this scope may relay anywhere",
       .support = S::kImplemented});
  add({.name = "tls_verified_peer_can_relay",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kTlsl,
       .doc = "A client with a verified certificate may relay"});

  // RFC conformance.
  add({.name = "rfc2821_allow_whitespace_in_envelope",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kPw,
       .doc = "Ignore blanks before CRLF in envelope commands"});
  add({.name = "rfc2821_pedantic_address_rules",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kPw,
       .doc = "Strict address syntax"});
  add({.name = "rfc2822_date_header",
       .type = T::kEnum,
       .default_text = "ifneeded",
       .scopes = kPw,
       .enum_values = {"ignore", "pedantic", "ifneeded"},
       .doc = "Missing Date: ignore, reject or add",
       .support = S::kImplemented});
  add({.name = "rfc2822_lone_lf_in_body",
       .type = T::kEnum,
       .default_text = "ignore",
       .scopes = kPw,
       .enum_values = {"ignore", "pedantic", "fix"},
       .doc = "Bare CR/LF in the body: pedantic rejects it; ignore and fix make it CRLF",
       .support = S::kImplemented});
  add({.name = "rfc2822_lone_lf_in_headers",
       .type = T::kEnum,
       .default_text = "pedantic",
       .scopes = kPw,
       .enum_values = {"fix", "pedantic"},
       .doc = "Bare CR/LF in headers: repair or reject"});
  add({.name = "rfc2822_max_line_length",
       .type = T::kInt,
       .default_text = "ignore",
       .scopes = kPw,
       .min = 78,
       .enum_values = {"ignore", "pedantic", "fix"},
       .doc = "Message lines longer than N octets are refused (pedantic: 998); ignore and fix "
              "accept any length",
       .support = S::kImplemented});
  add({.name = "rfc2822_max_line_length_policy",
       .type = T::kEnum,
       .default_text = "none",
       .scopes = kPw,
       .enum_values = {"none", "fix", "reject"},
       .doc = "Action for lines over rfc2822_max_line_length"});
  add({.name = "rfc2822_messageid_header",
       .type = T::kEnum,
       .default_text = "ifneeded",
       .scopes = kPw,
       .enum_values = {"ignore", "ifneeded"},
       .doc = "Add Message-ID: when absent",
       .support = S::kImplemented});
  add({.name = "rfc2822_missing_headers",
       .type = T::kEnum,
       .default_text = "reject",
       .scopes = kPw,
       .enum_values = {"reject", "allow"},
       .doc = "Accept header-less messages or refuse them"});
  add({.name = "rfc2822_trace_headers",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kPw,
       .doc = "Prepend Received: trace headers",
       .support = S::kImplemented});

  // AUTH.
  const std::vector<std::string> kAuthLogin = {"control_listener", "esmtp_listener", "listen",
                                               "pathway", "pathway_group"};
  // ESMTP builds its AUTH settings again at each reload (mta/server/inbound_config.cc); the
  // console reads its user file once (common/control/listener_config.cc).
  add({.name = "authloginparameters",
       .type = T::kDict,
       .scopes = {"esmtp_listener", "listen", "pathway", "pathway_group"},
       .doc = "AUTH LOGIN backend: [ uri = \"file:///...\" ], the file read again at each "
              "reload (a Listen of Control_Listener: as on Control_Listener)",
       .support = S::kImplemented});
  add({.name = "authloginparameters",
       .type = T::kDict,
       .scopes = {"control_listener"},
       .reloadable = false,
       .doc = "The user file TCP consoles log in against: [ uri = \"file:///...\" ] (crypt(3) "
              "hashes only), required for a TCP Listen; read when the console opens (restart)",
       .support = S::kImplemented});
  add({.name = "authcrammd5parameters",
       .type = T::kDict,
       .scopes = kAuthLogin,
       .doc = "AUTH CRAM-MD5 backend"});
  add({.name = "authplainparameters",
       .type = T::kDict,
       .scopes = {"esmtp_listener", "listen", "pathway", "pathway_group"},
       .doc = "AUTH PLAIN backend: [ uri = \"file:///...\" ] (lines user:password)",
       .support = S::kImplemented});
  add({.name = "authdigestmd5parameters",
       .type = T::kDict,
       .scopes = kAuth,
       .doc = "DIGEST-MD5 backend: [ uri = \"digest:///...\" realm = ... ]"});
  add({.name = "enable_authentication",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kAuth,
       .doc = "Enable SMTP or console authentication here",
       .support = S::kPlanned});
  add({.name = "always_allow",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kAuth,
       .doc = "Force authentication success"});
  add({.name = "always_deny",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kAuth,
       .doc = "Force authentication failure (wins over always_allow)"});
  add({.name = "enable_authorization",
       .type = T::kBool,
       .default_text = "false",
       .scopes = {"control_listener", "listen", "peer"},
       .doc = "Check console commands against Authorization roles"});
  add({.name = "authorizationparameters",
       .type = T::kDict,
       .scopes = {"control_listener", "esmtp_listener", "listen"},
       .doc = "Source of user roles"});

  // Inbound TLS.
  add({.name = "tls_client_ca",
       .type = T::kPath,
       .scopes = Plus(kTlsl, {"global"}),
       .doc = "CA list for client certificates",
       .support = S::kImplemented});
  add({.name = "tls_verify_mode",
       .type = T::kEnum,
       .scopes = kTlsl,
       .enum_values = {"none", "require"},
       .doc = "Whether a client certificate is demanded once TLS starts",
       .support = S::kImplemented});
  add({.name = "tls_allow_renegotiation",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kTlsl,
       .doc = "Permit TLS renegotiation"});
  add({.name = "use_ssl",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kTlsl,
       .doc = "Implicit TLS on connect (no STARTTLS)"});
  add({.name = "starttls_injection_policy",
       .type = T::kEnum,
       .default_text = "reject",
       .scopes = kIn,
       .enum_values = {"allow", "ignore", "reject"},
       .doc = "Commands pipelined after STARTTLS (CVE-2011-0411)",
       .support = S::kImplemented});
}

}  // namespace ec::config
