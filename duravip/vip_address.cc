#include "duravip/vip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace ec::duravip {
std::string QuoteForError(std::string_view text, size_t max_chars) {
  std::string out = "\"";
  for (char c : text.substr(0, max_chars)) {
    out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
  }
  if (text.size() > max_chars) out += "...";
  return out + "\"";
}

Status ValidateInterfaceName(std::string_view name) {
  if (name.empty()) return InvalidArgument("empty interface name");
  if (name.size() > kMaxInterfaceName) {
    return InvalidArgument("interface name " + QuoteForError(name) + " is longer than 15 bytes");
  }
  if (name == "." || name == "..")
    return InvalidArgument("bad interface name " + QuoteForError(name));
  for (unsigned char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':') {
      return InvalidArgument("bad interface name " + QuoteForError(name));
    }
  }
  return Status::Ok();
}

Result<VipAddress> VipAddress::Parse(std::string_view cidr, std::string_view interface) {
  const size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument("address " + QuoteForError(cidr) + " has no /prefix");
  }
  const std::string_view ip_text = cidr.substr(0, slash);
  const std::string_view prefix_text = cidr.substr(slash + 1);

  // inet_pton needs a NUL-terminated string; anything longer than an IPv6 address is bad.
  char ip_buf[INET6_ADDRSTRLEN] = {};
  if (ip_text.empty() || ip_text.size() >= sizeof(ip_buf)) {
    return InvalidArgument("bad IP address " + QuoteForError(ip_text));
  }
  std::memcpy(ip_buf, ip_text.data(), ip_text.size());

  VipAddress vip;
  int max_prefix = 0;
  char canonical[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, ip_buf, &v4) == 1) {
    const uint32_t host = ntohl(v4.s_addr);
    if (host == 0) return InvalidArgument("0.0.0.0 cannot be a virtual IP address");
    if (host == 0xffffffffu) {
      return InvalidArgument("255.255.255.255 cannot be a virtual IP address");
    }
    if ((host >> 28) == 0xe) {
      return InvalidArgument("multicast address " + QuoteForError(ip_text) +
                             " cannot be a virtual IP");
    }
    inet_ntop(AF_INET, &v4, canonical, sizeof(canonical));
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, ip_buf, &v6) == 1) {
    if (IN6_IS_ADDR_UNSPECIFIED(&v6)) return InvalidArgument(":: cannot be a virtual IP address");
    if (IN6_IS_ADDR_MULTICAST(&v6)) {
      return InvalidArgument("multicast address " + QuoteForError(ip_text) +
                             " cannot be a virtual IP");
    }
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      return InvalidArgument("IPv4-mapped address " + QuoteForError(ip_text) +
                             ": write it as IPv4");
    }
    if (IN6_IS_ADDR_LINKLOCAL(&v6)) {
      return InvalidArgument("link-local address " + QuoteForError(ip_text) +
                             " cannot be a virtual IP (it needs a scope)");
    }
    inet_ntop(AF_INET6, &v6, canonical, sizeof(canonical));
    max_prefix = 128;
  } else {
    return InvalidArgument("bad IP address " + QuoteForError(ip_text));
  }
  vip.ip = canonical;

  // Digits only: from_chars would accept a sign, and "024" reads too much like octal.
  int prefix = -1;
  const bool digits_only = !prefix_text.empty() && prefix_text.size() <= 3 &&
                           prefix_text.find_first_not_of("0123456789") == std::string_view::npos &&
                           (prefix_text.size() == 1 || prefix_text[0] != '0');
  if (digits_only) {
    std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  }
  if (prefix < 1 || prefix > max_prefix) {
    return InvalidArgument("bad prefix length " + QuoteForError(prefix_text) + " for " + vip.ip +
                           " (1.." + std::to_string(max_prefix) + ")");
  }
  vip.prefix = prefix;

  EC_RETURN_IF_ERROR(ValidateInterfaceName(interface));
  vip.interface = std::string(interface);
  return vip;
}

Result<VipAddress> VipAddress::ParseText(std::string_view text) {
  constexpr std::string_view kDev = " dev ";
  const size_t dev = text.find(kDev);
  if (dev == std::string_view::npos) {
    return InvalidArgument("expected \"<ip>/<prefix> dev <interface>\", got " +
                           QuoteForError(text));
  }
  return Parse(text.substr(0, dev), text.substr(dev + kDev.size()));
}

}  // namespace ec::duravip
