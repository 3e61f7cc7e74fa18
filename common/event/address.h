// SocketAddress: an IPv4, IPv6 or unix-domain socket address, parsed from the forms operators
// write in configs and on command lines:
//   "127.0.0.1:25", "[::1]:25", "*:25" and ":25" (any IPv4 address), "/run/ec_console.sock"
// (any text containing '/' is a unix socket path). Hosts must be numeric: parsing never does a
// DNS lookup. A value type; safe to copy between threads.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::event {

class SocketAddress {
 public:
  SocketAddress() = default;

  // Any of the forms above.
  static Result<SocketAddress> Parse(std::string_view text);
  // "host:port" forms only (no unix path).
  static Result<SocketAddress> ParseHostPort(std::string_view text);
  static Result<SocketAddress> Unix(std::string_view path);
  static SocketAddress FromSockaddr(const sockaddr* sa, socklen_t len);
  // getsockname(fd): the bound address, with the real port after binding port 0.
  static Result<SocketAddress> LocalOf(int fd);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const { return size_; }
  int family() const { return storage_.ss_family; }
  bool is_unix() const { return family() == AF_UNIX; }
  bool empty() const { return size_ == 0; }
  // 0.0.0.0 or :: (a wildcard bind): only getsockname on an accepted socket tells its address.
  bool is_unspecified() const;
  // 0 for unix sockets.
  uint16_t port() const;
  // "127.0.0.1", "::1", or the socket path.
  std::string host() const;
  // "127.0.0.1:25", "[::1]:25", or the socket path; parses back to the same address.
  std::string ToString() const;

 private:
  sockaddr_storage storage_{};
  socklen_t size_ = 0;
};

}  // namespace ec::event
