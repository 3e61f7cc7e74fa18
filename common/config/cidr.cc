#include "common/config/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace ec::config {

Result<Cidr> Cidr::Parse(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("expected an IP address or CIDR block, found '" + std::string(text) +
                           "'");
  };
  if (text.size() > 64) return bad();
  std::string_view host = text;
  int prefix = -1;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    host = text.substr(0, slash);
    std::string_view p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || prefix < 0) return bad();
  }
  Cidr c;
  std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), c.addr.data()) == 1) {
    c.v6 = false;
    if (prefix > 32) return bad();
    c.prefix = prefix < 0 ? 32 : prefix;
  } else if (inet_pton(AF_INET6, h.c_str(), c.addr.data()) == 1) {
    c.v6 = true;
    if (prefix > 128) return bad();
    c.prefix = prefix < 0 ? 128 : prefix;
  } else {
    return bad();
  }
  return c;
}

bool Cidr::Contains(const Cidr& a) const {
  if (a.v6 != v6) return false;
  int full = prefix / 8, rest = prefix % 8;
  for (int i = 0; i < full; ++i) {
    if (addr[i] != a.addr[i]) return false;
  }
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (a.addr[full] & mask);
}

}  // namespace ec::config
