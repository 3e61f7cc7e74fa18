#include "common/event/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace ec::event {
namespace {

Status Bad(std::string_view text, std::string_view why) {
  return InvalidArgument("bad address \"" + std::string(text) + "\": " + std::string(why));
}

Result<uint16_t> ParsePort(std::string_view full, std::string_view port) {
  if (port.empty()) return Bad(full, "missing port");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size()) {
    return Bad(full, "port must be a number");
  }
  if (value > 65535) return Bad(full, "port out of range (0-65535)");
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<SocketAddress> SocketAddress::Parse(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return Unix(text);
  return ParseHostPort(text);
}

Result<SocketAddress> SocketAddress::ParseHostPort(std::string_view text) {
  if (text.empty()) return Bad(text, "empty");
  std::string_view host;
  std::string_view port;
  bool v6 = false;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(text, "missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return Bad(text, "expected ':port' after ']'");
    port = rest.substr(1);
    v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Bad(text, "expected host:port");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Bad(text, "an IPv6 address must be written in brackets: [addr]:port");
    }
  }
  EC_ASSIGN_OR_RETURN(uint16_t port_number, ParsePort(text, port));

  SocketAddress out;
  std::string host_str(host);
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage_);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port_number);
    if (host_str == "*" || host_str.empty()) {
      sin6->sin6_addr = in6addr_any;
    } else if (inet_pton(AF_INET6, host_str.c_str(), &sin6->sin6_addr) != 1) {
      return Bad(text, "not a numeric IPv6 address");
    }
    out.size_ = sizeof(sockaddr_in6);
    return out;
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage_);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port_number);
  if (host_str.empty() || host_str == "*") {
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (inet_pton(AF_INET, host_str.c_str(), &sin->sin_addr) != 1) {
    return Bad(text, "host must be a numeric IPv4 address, [IPv6] address or '*'");
  }
  out.size_ = sizeof(sockaddr_in);
  return out;
}

Result<SocketAddress> SocketAddress::Unix(std::string_view path) {
  SocketAddress out;
  auto* sun = reinterpret_cast<sockaddr_un*>(&out.storage_);
  if (path.empty()) return Bad(path, "empty socket path");
  if (path.size() >= sizeof(sun->sun_path)) {
    return Bad(path,
               "socket path longer than " + std::to_string(sizeof(sun->sun_path) - 1) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) return Bad(path, "NUL in socket path");
  sun->sun_family = AF_UNIX;
  std::memcpy(sun->sun_path, path.data(), path.size());
  out.size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return out;
}

SocketAddress SocketAddress::FromSockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress out;
  if (len > sizeof(out.storage_)) len = sizeof(out.storage_);
  std::memcpy(&out.storage_, sa, len);
  out.size_ = len;
  return out;
}

Result<SocketAddress> SocketAddress::LocalOf(int fd) {
  SocketAddress out;
  socklen_t len = sizeof(out.storage_);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&out.storage_), &len) != 0) {
    return ErrnoStatus("getsockname", errno);
  }
  out.size_ = len;
  return out;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

bool SocketAddress::is_unspecified() const {
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr == INADDR_ANY;
  }
  if (family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
  }
  return false;
}

std::string SocketAddress::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    // By hand: glibc's inet_ntop formats IPv4 with sprintf, a few thousand instructions, and
    // every accepted connection asks for its addresses.
    const auto* octets = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr);
    char* out = buf;
    for (int i = 0; i < 4; ++i) {
      const unsigned v = octets[i];
      if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
      if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
      *out++ = static_cast<char>('0' + v % 10);
      if (i < 3) *out++ = '.';
    }
    return std::string(buf, out);
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof(buf));
    return buf;
  }
  if (family() == AF_UNIX) {
    const auto* sun = reinterpret_cast<const sockaddr_un*>(&storage_);
    size_t max =
        size_ > offsetof(sockaddr_un, sun_path) ? size_ - offsetof(sockaddr_un, sun_path) : 0;
    return std::string(sun->sun_path, strnlen(sun->sun_path, max));
  }
  return "";
}

std::string SocketAddress::ToString() const {
  if (family() == AF_INET) return host() + ":" + std::to_string(port());
  if (family() == AF_INET6) return "[" + host() + "]:" + std::to_string(port());
  if (family() == AF_UNIX) return host();
  return "(none)";
}

}  // namespace ec::event
