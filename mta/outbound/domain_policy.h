// DomainPolicy: every outbound setting that applies to one destination domain, resolved once
// from a config snapshot with Momentum's fallback order (domain > binding > global > default),
// and the node-wide outbound settings. The scheduler caches one policy per domain per snapshot;
// a reload builds new ones while connections in flight keep theirs. Immutable once built;
// shared between the scheduler and its connections on the loop thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/config/value.h"
#include "common/net/cidr.h"
#include "mta/outbound/binding.h"
#include "mta/outbound/route.h"

namespace ec::outbound {

enum class TlsMode { kNo, kIfAvailable, kRequired };

struct Timeouts {
  std::chrono::milliseconds connect{300000};
  std::chrono::milliseconds ehlo{300000};      // also the greeting and STARTTLS
  std::chrono::milliseconds mailfrom{300000};  // also DATA's 354
  std::chrono::milliseconds rcptto{300000};
  std::chrono::milliseconds body{600000};  // writing the body and its final reply
  std::chrono::milliseconds rset{30000};
  std::chrono::milliseconds idle{5000};
};

struct DomainPolicy {
  std::string domain;  // lower-case
  BindingRef binding;
  std::vector<RouteTarget> routes;  // from Gateway or Routes; empty: the domain's MX records
  uint16_t port = 25;               // remote_smtp_port: for MX/A targets and routes without one
  int64_t max_connections = 32;     // -1: unlimited
  size_t max_recipients_per_batch = 100;
  int64_t max_deliveries_per_connection = 0;  // 0: no cap
  config::Rate throttle_messages{0, 1};       // count 0: none
  config::Rate throttle_connections{0, 1};
  std::chrono::seconds retry_interval{1200};
  std::chrono::seconds max_retry_interval{43200};
  std::chrono::seconds message_expiration{86400};
  bool never_retry = false;
  bool suspended = false;  // suspend_delivery
  Timeouts timeouts;
  TlsMode tls = TlsMode::kNo;
  bool tls_verify_host = false;
  std::shared_ptr<SSL_CTX> tls_context;  // set unless tls = no
  std::string ehlo_hostname;             // "__message__" resolved per message is not supported
  std::string bind_address;              // empty: any
  bool use_ipv6 = false;                 // also look up AAAA records (use_ipv6)
  bool prefer_ipv6 = false;  // within one MX preference, IPv6 addresses first (prefer_ipv6_mxs)
  net::CidrSet prohibited_hosts;  // global prohibited_hosts: never connected to (router.h)
  bool generate_bounces = true;
  std::string mailerdaemon;  // address
  enum class Inline { kHeaders, kNone, kAll } bounces_inline = Inline::kHeaders;

  // Delay before attempt number `failures + 1`: retry_interval doubled per earlier failure,
  // capped at max_retry_interval.
  std::chrono::seconds RetryDelay(uint32_t failures) const;
};

struct GlobalOutbound {
  int64_t server_max_connections = 20000;
  std::shared_ptr<BindingTable> bindings;  // never null once built
  std::string resolv_conf;                 // empty: /etc/resolv.conf
  bool dns_fallback_to_tcp = false;
  std::string hostname;  // for EHLO and DSNs
};

// Also checks every binding and every named domain's policy, so a bad setting stops a start
// or a reload instead of surfacing on the first message.
Result<GlobalOutbound> BuildGlobalOutbound(std::shared_ptr<const config::Config> config,
                                           const std::string& default_hostname);
// The settings for mail to `domain` leaving through `binding`.
Result<std::shared_ptr<const DomainPolicy>> BuildDomainPolicy(const config::Config& config,
                                                              const std::string& domain,
                                                              const std::string& hostname,
                                                              const BindingRef& binding = {});

}  // namespace ec::outbound
