// HttpServer: the small HTTPS/1.1 server under ecconfigd (libevent OpenSSL bufferevents, one
// request per connection). It owns the untrusted-input limits, so that the handlers see only
// complete, bounded requests: the head's size (431), the time from accept to the end of the
// request body (slowloris: 408 or a close), connections in total and per client address (extra
// connections are closed at accept), and a body is only read once the handler has looked at the
// head (credentials) and named the route's cap (413 above it). Handlers answer at once or later
// (async password checks, long polls) through the exchange id; an id whose connection is gone is
// ignored. Everything runs on the loop thread of the event_base given; destroy it there.
#pragma once

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/status.h"
#include "common/event/handles.h"
#include "ecconfigd/http_request.h"

namespace ec::ecconfigd {

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_connections = 256;
  size_t max_connections_per_address = 32;
  // From accept (TLS handshake included) to the last byte of the request body.
  std::chrono::milliseconds request_timeout{30000};
};

using ExchangeId = uint64_t;
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

class HttpServer {
 public:
  struct Handlers {
    // The head arrived; the body (if any) is not read yet. Call Reply() or ReadBody(), now or
    // later. `peer` is the client's address without port.
    std::function<void(ExchangeId, const HttpRequestHead&, const std::string& peer)> on_head;
    // The body asked for with ReadBody() is complete.
    std::function<void(ExchangeId, std::string body)> on_body;
    // The connection went away before Reply() (a long poll's client hung up).
    std::function<void(ExchangeId)> on_close;
  };

  static Result<std::unique_ptr<HttpServer>> Start(event_base* base,
                                                   std::shared_ptr<SSL_CTX> ssl_ctx,
                                                   const std::string& address, uint16_t port,
                                                   HttpLimits limits, Handlers handlers);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  uint16_t port() const { return port_; }
  size_t connections() const { return connections_.size(); }

  // Sends the response and closes the connection. False when the exchange is gone.
  bool Reply(ExchangeId id, int status, std::string_view body, const HttpHeaders& headers = {});
  // Reads up to `max_bytes` of body (Content-Length), then calls on_body; 413 above the cap.
  bool ReadBody(ExchangeId id, size_t max_bytes);

 private:
  struct Connection;
  HttpServer(event_base* base, std::shared_ptr<SSL_CTX> ctx, HttpLimits limits, Handlers h);
  static void OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int len, void* arg);
  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short what, void* arg);
  static void OnTimer(evutil_socket_t, short, void* arg);

  void ReadHead(Connection& c);
  void ReadMoreBody(Connection& c);
  void Refuse(Connection& c, int status, std::string_view why);
  void Arm(Connection& c, std::chrono::milliseconds after);
  // Forgets the connection (and frees it); tells on_close when no reply was sent.
  void Close(Connection& c);

  event_base* base_;
  std::shared_ptr<SSL_CTX> ssl_ctx_;
  HttpLimits limits_;
  Handlers handlers_;
  event::ListenerPtr listener_;
  uint16_t port_ = 0;
  ExchangeId next_id_ = 1;
  std::map<ExchangeId, std::unique_ptr<Connection>> connections_;
  std::map<std::string, size_t> per_address_;
};

}  // namespace ec::ecconfigd
