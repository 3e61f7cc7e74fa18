// Outbound options: bindings, routing, connection limits and throttles, timeouts, retries,
// bounces, outbound TLS (and the TLS options shared with listeners), DNS.
#include "common/config/schema.h"

namespace ec::config {

void RegisterOutboundOptions(SchemaRegistry* r) {
  using T = OptionType;
  using S = Support;
  using namespace scope_sets;
  auto add = [r](OptionSpec s) { r->AddOption(std::move(s)); };
  const std::vector<std::string> kGlobal = {"global"};
  const std::vector<std::string> kDomainGlobal = {"domain", "global"};
  const std::vector<std::string> kBindings = {"binding", "binding_group", "global"};
  std::vector<std::string> tls_all = kOut;
  tls_all.insert(tls_all.end(), kTlsl.begin(), kTlsl.end());

  // Routing and identity.
  add({.name = "default_binding",
       .type = T::kEnum,
       .default_text = "normal",
       .scopes = kGlobal,
       .enum_values = {"normal", "suspended", "none"},
       .doc = "Unassigned mail: normal delivers it, suspended holds it (none is refused)",
       .support = S::kImplemented});
  // Which binding a message leaves through (ours; Momentum does this in Lua with
  // msys.core.set_binding): set on the inbound scope the message came in through, or on the
  // destination's global Domain scope. The message's own assignment wins.
  std::vector<std::string> assign_scopes = kInG;
  assign_scopes.push_back("domain");
  add({.name = "set_binding",
       .type = T::kString,
       .scopes = assign_scopes,
       .doc = "Send this mail through the named Binding",
       .support = S::kImplemented});
  add({.name = "set_binding_group",
       .type = T::kString,
       .scopes = assign_scopes,
       .doc = "Send this mail through one of the named Binding_Group's bindings",
       .support = S::kImplemented});
  // Read into each DomainPolicy, which a reload builds again (Scheduler::Apply).
  add({.name = "bind_address",
       .type = T::kString,
       .scopes = kBindings,
       .doc = "Source address of outbound connections (global: the default binding); after a "
              "reload, new connections use the new one",
       .support = S::kImplemented});
  add({.name = "ehlo_hostname",
       .type = T::kString,
       .default_text = "__hostname__",
       .scopes = kOut,
       // A connection carries many senders' mail: __message__ is taken as __hostname__.
       .doc = "EHLO name; __hostname__ = the node's hostname (__message__, Momentum's sender "
              "domain, is treated as __hostname__)",
       .support = S::kImplemented});
  add({.name = "delivery_method",
       .type = T::kEnum,
       .default_text = "ESMTP",
       .scopes = kOut,
       .enum_values = {"ESMTP", "SMTP", "LMTP", "ECSTREAM"},
       .doc = "Protocol used to deliver"});
  add({.name = "remote_smtp_port",
       .type = T::kInt,
       .default_text = "25",
       .scopes = kOut,
       .min = 1,
       .max = 65535,
       .doc = "Destination port of SMTP delivery",
       .support = S::kImplemented});
  add({.name = "lmtp_port",
       .type = T::kInt,
       .default_text = "2003",
       .scopes = kOut,
       .min = 1,
       .max = 65535,
       .doc = "Destination port of LMTP delivery"});
  add({.name = "gateway",
       .type = T::kString,
       .scopes = kOut,
       .doc = "Smarthost: send this scope's mail there instead of the MXs",
       .support = S::kImplemented});
  add({.name = "routes",
       .type = T::kList,
       .scopes = kDomainGlobal,
       .doc = "Explicit routes: ( \"smtp://ip?pref=10&port=25\" \"__mx__\" )",
       .support = S::kImplemented});
  add({.name = "prohibited_hosts",
       .type = T::kCidrList,
       .scopes = kGlobal,
       .doc = "Destination addresses never connected to (MX, A or route); none left: the "
              "recipients fail permanently (550 5.1.2)",
       .support = S::kImplemented});
  add({.name = "skip_hosts",
       .type = T::kCidrList,
       .scopes = kGlobal,
       .doc = "Destination addresses skipped while other MXs remain"});
  add({.name = "suspend_delivery",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kOut,
       .doc = "Stop outbound delivery for the scope",
       .support = S::kImplemented});
  add({.name = "blackhole",
       .type = T::kEnum,
       .default_text = "false",
       .scopes = kOut,
       .enum_values = {"false", "true", "inline", "internal"},
       .doc = "Fail all mail"});
  add({.name = "send_8bitmime",
       .type = T::kEnum,
       .default_text = "no",
       .scopes = kOut,
       .enum_values = {"no", "ifavailable"},
       .doc = "Announce 8BITMIME when offered"});
  add({.name = "max_recipients_per_batch",
       .type = T::kInt,
       .default_text = "100",
       .scopes = kOut,
       .min = 1,
       .doc = "RCPTs per outbound transaction",
       .support = S::kImplemented});
  add({.name = "max_deliveries_per_connection",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kOut,
       .min = 0,
       .doc = "Deliveries before closing a connection; 0 = no cap",
       .support = S::kImplemented});
  add({.name = "use_ipv6",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .doc = "Use the MX hosts' AAAA records",
       .support = S::kImplemented});
  add({.name = "prefer_ipv6_mxs",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .doc = "Within one MX preference, try IPv6 addresses first (with use_ipv6)",
       .support = S::kImplemented});
  add({.name = "dns_fallback_to_tcp",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .reloadable = false,  // the resolver is made once (MtaDaemon::StartOutbound)
       .doc = "Ask again over TCP when a UDP answer comes back truncated",
       .support = S::kImplemented});

  // Connection limits and throttles.
  add({.name = "max_outbound_connections",
       .type = T::kInt,
       .default_text = "32",
       .scopes = kOutHost,
       .min = -1,
       .doc = "Connections per domain (in Host: per remote address); -1 = unlimited",
       .support = S::kImplemented});
  add({.name = "server_max_outbound_connections",
       .type = T::kInt,
       .default_text = "20000",
       .scopes = kBindings,
       .min = 0,
       .doc = "Total outbound connections",
       .support = S::kImplemented});
  add({.name = "scope_max_outbound_connections",
       .type = T::kInt,
       .scopes = kOutHost,
       .min = -1,
       .doc = "Cap whose meaning depends on the scope"});
  add({.name = "outbound_throttle_messages",
       .type = T::kRate,
       .scopes = kOutHost,
       .doc = "Messages started in any window of secs seconds, \"N/secs\" (sliding)",
       .support = S::kImplemented});
  add({.name = "outbound_throttle_connections",
       .type = T::kRate,
       .scopes = kOutHost,
       .doc = "Connections opened in any window of secs seconds, \"N/secs\" (sliding)",
       .support = S::kImplemented});

  // Timeouts.
  struct Timeout {
    const char* name;
    const char* def;
    const char* doc;
  };
  for (const Timeout& t : {
           Timeout{"idle_timeout", "5", "Keep an idle outbound connection open this long"},
           Timeout{"connect_timeout", "300", "TCP connect timeout"},
           Timeout{"ehlo_timeout", "300", "Wait for the EHLO reply"},
           Timeout{"mailfrom_timeout", "300", "Wait for the MAIL FROM reply"},
           Timeout{"rcptto_timeout", "300", "Wait for each RCPT TO reply"},
           Timeout{"body_timeout", "600", "Wait for the reply after end-of-data"},
           Timeout{"rset_timeout", "30", "Wait for the RSET reply"},
       }) {
    add({.name = t.name,
         .type = T::kSeconds,
         .default_text = t.def,
         .scopes = kOut,
         .doc = t.doc,
         .support = S::kImplemented});
  }
  add({.name = "host_failure_retry",
       .type = T::kSeconds,
       .default_text = "120",
       .scopes = kDomainGlobal,
       .doc = "Back-off for an address after a failure"});
  add({.name = "mx_failures_fallback_to_a",
       .type = T::kInt,
       .default_text = "3",
       .scopes = kDomainGlobal,
       .min = -1,
       .doc = "MX attempts before an A lookup"});

  // Retries and expiry.
  add({.name = "retry_interval",
       .type = T::kSeconds,
       .default_text = "1200",
       .scopes = kOut,
       .doc = "First retry delay; doubles on each further failure",
       .support = S::kImplemented});
  add({.name = "max_retry_interval",
       .type = T::kSeconds,
       .default_text = "43200",
       .scopes = kOut,
       .doc = "Ceiling of the retry back-off",
       .support = S::kImplemented});
  add({.name = "max_retries",
       .type = T::kInt,
       .default_text = "auto",
       .scopes = kOut,
       .min = 0,
       .enum_values = {"auto", "none"},
       .doc = "Attempt limit; auto derives it from message_expiration",
       .support = S::kPlanned});
  add({.name = "message_expiration",
       .type = T::kSeconds,
       .default_text = "86400",
       .scopes = kOut,
       .doc = "Message lifetime before permanent failure",
       .support = S::kImplemented});
  add({.name = "never_retry",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kOut,
       .doc = "Fail instead of requeueing",
       .support = S::kImplemented});
  add({.name = "never_attempt_expired_messages",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kOut,
       .doc = "Do not try messages already past expiry"});

  // Bounces.
  add({.name = "generate_bounces",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kOut,
       .doc = "Send a DSN to the sender on permanent failure",
       .support = S::kImplemented});
  add({.name = "mailerdaemon",
       .type = T::kString,
       .scopes = kOut,
       .doc = "From: of generated bounces (default mailer-daemon@hostname)",
       .support = S::kImplemented});
  add({.name = "bounces_inline_original",
       .type = T::kEnum,
       .default_text = "headers",
       .scopes = kOut,
       .enum_values = {"headers", "none", "all"},
       .doc = "How much of the original goes into a bounce",
       .support = S::kImplemented});
  add({.name = "bounce_domains",
       .type = T::kList,
       .scopes = kPw,
       .doc = "Domains whose inbound mail is bounce-processed"});
  add({.name = "bounce_behavior",
       .type = T::kEnum,
       .default_text = "pass",
       .scopes = kDomainGlobal,
       .enum_values = {"pass", "blackhole"},
       .doc = "Route or drop classified out-of-band bounces"});

  // TLS, outbound and shared with listeners.
  add({.name = "tls",
       .type = T::kEnum,
       .default_text = "no",
       .scopes = kOut,
       .enum_values = {"no", "ifavailable", "required"},
       .doc = "Outbound STARTTLS",
       .support = S::kImplemented});
  add({.name = "tls_verify",
       .type = T::kEnum,
       .default_text = "no",
       .scopes = kOut,
       .enum_values = {"no", "ca", "host", "optional"},
       .doc = "Check of the server certificate",
       .support = S::kImplemented});
  add({.name = "tls_ca",
       .type = T::kPath,
       .scopes = kOut,
       .doc = "CA list for verifying remote servers",
       .support = S::kImplemented});
  add({.name = "tls_ifavailable_fallback",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kOut,
       .doc = "After failed opportunistic TLS, resend in clear"});
  add({.name = "tls_certificate",
       .type = T::kPath,
       .scopes = tls_all,
       .doc = "PEM certificate (listener: server cert; outbound: client cert)",
       .support = S::kImplemented});
  add({.name = "tls_key",
       .type = T::kPath,
       .scopes = tls_all,
       .doc = "PEM private key matching tls_certificate",
       .support = S::kImplemented});
  add({.name = "tls_ciphers",
       .type = T::kString,
       .scopes = tls_all,
       .doc = "OpenSSL cipher string",
       .support = S::kImplemented});
  add({.name = "tls_protocols",
       .type = T::kString,
       .scopes = tls_all,
       .doc = "Enabled protocol tokens, e.g. \"+ALL:-SSLv3\""});

  // DNS.
  add({.name = "resolv_conf",
       .type = T::kPath,
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "Resolver file (default /etc/resolv.conf)",
       .support = S::kImplemented});
  add({.name = "min_dns_ttl",
       .type = T::kSeconds,
       .default_text = "0",
       .scopes = kGlobal,
       .doc = "Lower clamp of DNS TTLs"});
  add({.name = "max_dns_ttl",
       .type = T::kSeconds,
       .default_text = "4294967295",
       .scopes = kGlobal,
       .doc = "Upper clamp of DNS TTLs"});
}

}  // namespace ec::config
