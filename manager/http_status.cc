#include "manager/http_status.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include <cstring>

#include "common/event/address.h"

namespace ec::manager {

Result<std::unique_ptr<StatusHttpServer>> StatusHttpServer::Start(event::EventBase& base,
                                                                  const std::string& address,
                                                                  Page health, Page metrics) {
  EC_ASSIGN_OR_RETURN(event::SocketAddress where, event::SocketAddress::ParseHostPort(address));
  std::unique_ptr<StatusHttpServer> server(
      new StatusHttpServer(std::move(health), std::move(metrics)));
  server->http_ = evhttp_new(base.get());
  if (!server->http_) return Internal("evhttp_new failed");
  evhttp_set_allowed_methods(server->http_, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
  evhttp_set_max_headers_size(server->http_, 16 * 1024);
  evhttp_set_max_body_size(server->http_, 4096);  // small bodies reach Handle for a 405
  evhttp_set_timeout(server->http_, 10);
  evhttp_set_gencb(server->http_, &StatusHttpServer::OnRequest, server.get());
  const std::string host = where.host();
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(server->http_, host.c_str(), where.port());
  if (!bound) {
    return Unavailable("cannot listen for HTTP on " + address + ": " + std::strerror(errno));
  }
  EC_ASSIGN_OR_RETURN(event::SocketAddress local,
                      event::SocketAddress::LocalOf(evhttp_bound_socket_get_fd(bound)));
  server->address_ = local.host() + ":" + std::to_string(local.port());
  return server;
}

StatusHttpServer::~StatusHttpServer() {
  if (http_) evhttp_free(http_);
}

void StatusHttpServer::OnRequest(evhttp_request* request, void* arg) {
  static_cast<StatusHttpServer*>(arg)->Handle(request);
}

void StatusHttpServer::Handle(evhttp_request* request) {
  ++requests_;
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  const auto method = evhttp_request_get_command(request);
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    evhttp_add_header(headers, "Allow", "GET, HEAD");
    evhttp_send_error(request, 405, "Method Not Allowed");
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
  std::string body;
  const char* type = nullptr;
  if (path && std::strcmp(path, "/health") == 0) {
    body = health_();
    type = "application/json";
  } else if (path && std::strcmp(path, "/metrics") == 0) {
    body = metrics_();
    type = "text/plain; version=0.0.4; charset=utf-8";
  } else {
    evhttp_send_error(request, 404, "Not Found (try /health or /metrics)");
    return;
  }
  evhttp_add_header(headers, "Content-Type", type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evbuffer* buf = evbuffer_new();
  if (!buf) {
    evhttp_send_error(request, 500, "Internal Server Error");
    return;
  }
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(request, 200, "OK", buf);
  evbuffer_free(buf);
}

}  // namespace ec::manager
