// Router: turns a domain's policy into the ordered list of addresses to try. Routes/Gateway
// entries first (IP literals as they are, hostnames through A lookups, "__mx__" through the MX
// records); without routes the domain's MX records in preference order, each resolved to its
// addresses, falling back to the domain's own A record when it has no MX (RFC 5321 §5.1).
// With use_ipv6 every name is also looked up as AAAA, and within one MX preference (or one
// route entry) IPv4 addresses come first, IPv6 first with prefer_ipv6_mxs. Without use_ipv6,
// AAAA records are ignored: a host with only AAAA records has no usable address.
// Addresses in prohibited_hosts (Momentum: destinations mail is never delivered to) are dropped
// from every list, MX or route alike; when none remain the route fails permanently.
// Asynchronous; the callback runs on the loop thread, once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/event/address.h"
#include "mta/dns/resolver.h"
#include "mta/outbound/domain_policy.h"

namespace ec::outbound {

struct Hop {
  event::SocketAddress address;
  std::string hostname;  // the MX/route name it came from (for TLS SNI and logs), may be empty
};

// kNotFound when the domain does not exist or has no usable address, every address being
// prohibited included (a permanent failure); other errors are transient. `resolver` may be null
// when every route is an IP literal.
using RouteCallback = std::function<void(Result<std::vector<Hop>>)>;
void ResolveRoute(dns::Resolver* resolver, const DomainPolicy& policy, RouteCallback done);

}  // namespace ec::outbound
