// Routing entries as operators write them: Routes list items ("smtp://127.0.0.1:2600",
// "smtp://10.0.0.1?pref=10&port=2525&type=a", "mx.example.com", "__mx__") and Gateway values
// ("relay.example.com", "10.0.0.1:2525", "[::1]:25"). Parsing never looks anything up; a
// hostname stays a name for the resolver. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::outbound {

struct RouteTarget {
  enum class Kind {
    kAddress,  // numeric IPv4/IPv6: connect directly
    kHost,     // a hostname: look up its A (and AAAA) records
    kMx,       // "__mx__" or type=mx: the domain's (or the named host's) MX records
  };
  Kind kind = Kind::kAddress;
  std::string host;   // IP literal without brackets, or a hostname; empty for "__mx__"
  uint16_t port = 0;  // 0: the scope's remote_smtp_port
  int preference = 0;

  bool operator==(const RouteTarget&) const = default;
};

// One Routes list item.
Result<RouteTarget> ParseRoute(std::string_view text);
// A Gateway value: host, host:port, IPv4:port, [IPv6]:port, or an smtp:// URI.
Result<RouteTarget> ParseGateway(std::string_view text);
// Every item, sorted by preference (stable, so equal preferences keep the written order).
Result<std::vector<RouteTarget>> ParseRoutes(const std::vector<std::string>& items);

bool IsIpLiteral(std::string_view host);

}  // namespace ec::outbound
