#include "mta/outbound/route.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ec::outbound {
namespace {

Result<int> ParseNumber(std::string_view text, int min, int max, std::string_view what) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max) {
    return InvalidArgument(std::string(what) + " \"" + std::string(text) + "\" is not a number in " +
                           std::to_string(min) + ".." + std::to_string(max));
  }
  return v;
}

bool ValidHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// "host", "host:port", "[v6]" or "[v6]:port", "v6" (more than one colon, no port).
Status SplitHostPort(std::string_view text, RouteTarget* t) {
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return InvalidArgument("missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgument("unexpected text after ']'");
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (!port.empty() || (text.size() > 0 && text.back() == ':')) {
    EC_ASSIGN_OR_RETURN(int p, ParseNumber(port, 1, 65535, "port"));
    t->port = static_cast<uint16_t>(p);
  }
  t->host = std::string(host);
  if (IsIpLiteral(t->host)) {
    t->kind = RouteTarget::Kind::kAddress;
  } else if (ValidHostname(t->host)) {
    t->kind = RouteTarget::Kind::kHost;
  } else {
    return InvalidArgument("\"" + t->host + "\" is neither an IP address nor a hostname");
  }
  return Status::Ok();
}

Status ParseQuery(std::string_view query, RouteTarget* t) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) return InvalidArgument("\"" + std::string(kv) + "\" needs =");
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "pref") {
      EC_ASSIGN_OR_RETURN(t->preference, ParseNumber(value, 0, 65535, "pref"));
    } else if (key == "port") {
      EC_ASSIGN_OR_RETURN(int p, ParseNumber(value, 1, 65535, "port"));
      t->port = static_cast<uint16_t>(p);
    } else if (key == "ttl") {
      EC_RETURN_IF_ERROR(ParseNumber(value, 0, 2147483647, "ttl").status());
    } else if (key == "type") {
      if (value == "mx") {
        if (t->kind == RouteTarget::Kind::kAddress) {
          return InvalidArgument("type=mx needs a hostname");
        }
        t->kind = RouteTarget::Kind::kMx;
      } else if (value != "a") {
        return InvalidArgument("type \"" + std::string(value) + "\": expected mx or a");
      }
    } else {
      return InvalidArgument("unknown route parameter \"" + std::string(key) + "\"");
    }
  }
  return Status::Ok();
}

Result<RouteTarget> ParseUri(std::string_view text) {
  RouteTarget t;
  text.remove_prefix(7);  // "smtp://"
  size_t q = text.find('?');
  std::string_view authority = text.substr(0, q);
  if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
  EC_RETURN_IF_ERROR(SplitHostPort(authority, &t));
  if (q != std::string_view::npos) EC_RETURN_IF_ERROR(ParseQuery(text.substr(q + 1), &t));
  return t;
}

}  // namespace

bool IsIpLiteral(std::string_view host) {
  std::string h(host);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

Result<RouteTarget> ParseRoute(std::string_view text) {
  auto fail = [text](const Status& s) {
    return InvalidArgument("route \"" + std::string(text) + "\": " + s.message());
  };
  if (text == "__mx__") return RouteTarget{.kind = RouteTarget::Kind::kMx};
  Result<RouteTarget> r = text.substr(0, 7) == "smtp://" ? ParseUri(text) : ParseGateway(text);
  if (!r.ok()) return fail(r.status());
  return r;
}

Result<RouteTarget> ParseGateway(std::string_view text) {
  if (text.substr(0, 7) == "smtp://") return ParseUri(text);
  RouteTarget t;
  EC_RETURN_IF_ERROR(SplitHostPort(text, &t));
  return t;
}

Result<std::vector<RouteTarget>> ParseRoutes(const std::vector<std::string>& items) {
  std::vector<RouteTarget> out;
  for (const std::string& item : items) {
    EC_ASSIGN_OR_RETURN(RouteTarget t, ParseRoute(item));
    out.push_back(std::move(t));
  }
  std::stable_sort(out.begin(), out.end(), [](const RouteTarget& a, const RouteTarget& b) {
    return a.preference < b.preference;
  });
  return out;
}

}  // namespace ec::outbound
