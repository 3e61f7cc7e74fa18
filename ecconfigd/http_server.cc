#include "ecconfigd/http_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "common/log/logger.h"

namespace ec::ecconfigd {
namespace {

// After an early answer (401, 413, ...) the client may still be sending its body: read and drop
// it for a short while so that closing does not reset the connection before the answer is read.
constexpr std::chrono::milliseconds kDrainTime{2000};
constexpr size_t kMaxDrainBytes = 1 << 20;
// Bytes a client may send after its request (while a long poll waits) before it is cut off.
constexpr size_t kMaxTrailingBytes = 64 * 1024;

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

std::string PeerAddress(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text,
              sizeof text);
  }
  return text;
}

}  // namespace

struct HttpServer::Connection {
  enum class State {
    kHead,      // reading the request head
    kDeciding,  // head handed to on_head; reading paused
    kBody,      // reading `body_left` more bytes
    kHandling,  // request complete; the handler owes a reply (long polls wait here)
    kWriting,   // reply queued; closing once it is flushed
    kDraining,  // early reply queued; dropping what the client still sends
  };
  HttpServer* server;
  ExchangeId id;
  std::string peer;
  event::BufferEventPtr bev;
  event::EventPtr timer;
  State state = State::kHead;
  HttpRequestHead head;
  std::string body;
  size_t body_left = 0;
  size_t dropped = 0;
  bool flushed = false;
};

HttpServer::HttpServer(event_base* base, std::shared_ptr<SSL_CTX> ctx, HttpLimits limits,
                       Handlers h)
    : base_(base), ssl_ctx_(std::move(ctx)), limits_(limits), handlers_(std::move(h)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(event_base* base,
                                                      std::shared_ptr<SSL_CTX> ssl_ctx,
                                                      const std::string& address, uint16_t port,
                                                      HttpLimits limits, Handlers handlers) {
  std::unique_ptr<HttpServer> server(
      new HttpServer(base, std::move(ssl_ctx), limits, std::move(handlers)));
  std::string where = address + ":" + std::to_string(port);
  sockaddr_storage addr{};
  int len = sizeof addr;
  // Parsed without the port: libevent refuses port 0 (any free port, for tests).
  if (evutil_parse_sockaddr_port(address.c_str(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return InvalidArgument("bad listen address " + address);
  }
  if (addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port);
  }
  server->listener_.reset(evconnlistener_new_bind(
      base, &HttpServer::OnAccept, server.get(),
      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
      reinterpret_cast<sockaddr*>(&addr), len));
  if (!server->listener_) return Unavailable("cannot listen on " + where);
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (getsockname(evconnlistener_get_fd(server->listener_.get()),
                  reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    server->port_ = bound.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  return server;
}

HttpServer::~HttpServer() {
  listener_.reset();
  connections_.clear();  // no on_close: the owner is going away too
}

void HttpServer::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* addr, int, void* arg) {
  auto* self = static_cast<HttpServer*>(arg);
  std::string peer = PeerAddress(addr);
  size_t& from_peer = self->per_address_[peer];
  if (self->connections_.size() >= self->limits_.max_connections ||
      from_peer >= self->limits_.max_connections_per_address) {
    EC_LOG(kWarn, "connection refused: too many connections")
        .Field("address", peer)
        .Field("from_address", static_cast<int64_t>(from_peer))
        .Field("total", static_cast<int64_t>(self->connections_.size()));
    if (from_peer == 0) self->per_address_.erase(peer);
    ::close(fd);
    return;
  }
  SSL* ssl = SSL_new(self->ssl_ctx_.get());
  if (ssl == nullptr) {
    ::close(fd);
    return;
  }
  // Deferred callbacks: a reply or close never re-enters the caller's stack.
  bufferevent* bev = bufferevent_openssl_socket_new(
      self->base_, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
  if (bev == nullptr) {
    SSL_free(ssl);
    ::close(fd);
    return;
  }
  ++from_peer;
  auto c = std::make_unique<Connection>();
  c->server = self;
  c->id = self->next_id_++;
  c->peer = peer;
  c->bev.reset(bev);
  c->timer.reset(evtimer_new(self->base_, &HttpServer::OnTimer, c.get()));
  bufferevent_setcb(bev, &HttpServer::OnRead, &HttpServer::OnWrite, &HttpServer::OnEvent,
                    c.get());
  // Reading pauses at the head cap, so a head never costs more memory than that.
  bufferevent_setwatermark(bev, EV_READ, 0, self->limits_.max_header_bytes + 4);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
  self->Arm(*c, self->limits_.request_timeout);
  self->connections_.emplace(c->id, std::move(c));
}

void HttpServer::Arm(Connection& c, std::chrono::milliseconds after) {
  timeval tv{static_cast<time_t>(after.count() / 1000),
             static_cast<suseconds_t>((after.count() % 1000) * 1000)};
  evtimer_add(c.timer.get(), &tv);
}

void HttpServer::OnTimer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  HttpServer* self = c->server;
  using State = Connection::State;
  if (c->state == State::kHead || c->state == State::kBody || c->state == State::kDeciding) {
    EC_LOG(kWarn, "request timed out")
        .Field("address", c->peer)
        .Field("stage", c->state == State::kBody ? "body" : "head");
    // A client that never finished its TLS handshake cannot read an answer anyway.
    self->Refuse(*c, 408, "request took too long\n");
    c->state = State::kDraining;
    self->Arm(*c, kDrainTime);
    return;
  }
  if (c->state == State::kWriting || c->state == State::kDraining) self->Close(*c);
}

void HttpServer::OnRead(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  HttpServer* self = c->server;
  evbuffer* in = bufferevent_get_input(c->bev.get());
  switch (c->state) {
    case Connection::State::kHead:
      self->ReadHead(*c);
      return;
    case Connection::State::kBody:
      self->ReadMoreBody(*c);
      return;
    case Connection::State::kDeciding:
      return;
    case Connection::State::kHandling:
    case Connection::State::kWriting:
    case Connection::State::kDraining: {
      c->dropped += evbuffer_get_length(in);
      evbuffer_drain(in, evbuffer_get_length(in));
      size_t cap = c->state == Connection::State::kHandling ? kMaxTrailingBytes : kMaxDrainBytes;
      if (c->dropped > cap) self->Close(*c);
      return;
    }
  }
}

void HttpServer::ReadHead(Connection& c) {
  evbuffer* in = bufferevent_get_input(c.bev.get());
  evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
  size_t cap = limits_.max_header_bytes;
  if (end.pos < 0 || static_cast<size_t>(end.pos) > cap) {
    if (evbuffer_get_length(in) >= cap + 4 || (end.pos >= 0)) {
      EC_LOG(kWarn, "request refused: header too large")
          .Field("address", c.peer)
          .Field("limit", static_cast<int64_t>(cap));
      Refuse(c, 431, "request header too large\n");
    }
    return;
  }
  size_t head_len = static_cast<size_t>(end.pos);
  std::string raw(head_len, '\0');
  evbuffer_remove(in, raw.data(), head_len);
  evbuffer_drain(in, 4);
  auto head = ParseHttpRequestHead(raw);
  if (!head.ok()) {
    EC_LOG(kWarn, "request refused: bad request head")
        .Field("address", c.peer)
        .Field("error", head.status());
    Refuse(c, 400, head.status().message() + "\n");
    return;
  }
  if (head->chunked) {
    Refuse(c, 411, "send the body with a Content-Length\n");
    return;
  }
  c.head = std::move(*head);
  c.state = Connection::State::kDeciding;
  bufferevent_disable(c.bev.get(), EV_READ);
  handlers_.on_head(c.id, c.head, c.peer);
}

bool HttpServer::ReadBody(ExchangeId id, size_t max_bytes) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->state != Connection::State::kDeciding) return false;
  Connection& c = *it->second;
  size_t length = c.head.content_length.value_or(0);
  if (length > max_bytes) {
    EC_LOG(kWarn, "request refused: body too large")
        .Field("address", c.peer)
        .Field("length", static_cast<int64_t>(length))
        .Field("limit", static_cast<int64_t>(max_bytes));
    Refuse(c, 413, "request body too large (limit " + std::to_string(max_bytes) + " bytes)\n");
    return true;
  }
  c.state = Connection::State::kBody;
  c.body_left = length;
  c.body.reserve(length);
  bufferevent_setwatermark(c.bev.get(), EV_READ, 0, 0);
  bufferevent_enable(c.bev.get(), EV_READ);
  ReadMoreBody(c);
  return true;
}

void HttpServer::ReadMoreBody(Connection& c) {
  evbuffer* in = bufferevent_get_input(c.bev.get());
  size_t n = std::min(evbuffer_get_length(in), c.body_left);
  if (n > 0) {
    size_t at = c.body.size();
    c.body.resize(at + n);
    evbuffer_remove(in, c.body.data() + at, n);
    c.body_left -= n;
  }
  if (c.body_left > 0) return;
  c.state = Connection::State::kHandling;
  evtimer_del(c.timer.get());  // the handler answers in its own time (long polls)
  handlers_.on_body(c.id, std::move(c.body));
}

void HttpServer::Refuse(Connection& c, int status, std::string_view why) {
  Reply(c.id, status, why, {{"Content-Type", "text/plain"}});
}

bool HttpServer::Reply(ExchangeId id, int status, std::string_view body,
                       const HttpHeaders& headers) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return false;
  Connection& c = *it->second;
  using State = Connection::State;
  if (c.state == State::kWriting || c.state == State::kDraining) return false;
  bool whole_request_read = c.state == State::kHandling;
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(Reason(status)) +
                    "\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  bufferevent_write(c.bev.get(), out.data(), out.size());
  bufferevent_write(c.bev.get(), body.data(), body.size());
  c.state = whole_request_read ? State::kWriting : State::kDraining;
  c.dropped = 0;
  bufferevent_setwatermark(c.bev.get(), EV_READ, 0, 0);
  bufferevent_enable(c.bev.get(), EV_READ | EV_WRITE);
  // A reader that does not take the answer in time is cut off as well.
  Arm(c, whole_request_read ? limits_.request_timeout : kDrainTime);
  return true;
}

void HttpServer::OnWrite(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->state == Connection::State::kWriting) {
    c->server->Close(*c);
  } else if (c->state == Connection::State::kDraining) {
    c->flushed = true;  // keep draining until EOF or the timer
  }
}

void HttpServer::OnEvent(bufferevent*, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) c->server->Close(*c);
}

void HttpServer::Close(Connection& c) {
  using State = Connection::State;
  bool owed = c.state == State::kDeciding || c.state == State::kHandling;
  ExchangeId id = c.id;
  auto count = per_address_.find(c.peer);
  if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
  connections_.erase(id);  // frees the bufferevent (closing the socket) and the timer
  if (owed && handlers_.on_close) handlers_.on_close(id);
}

}  // namespace ec::ecconfigd
