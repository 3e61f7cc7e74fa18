#include "manager/http_status.h"

#include <event2/buffer.h>
#include <sys/queue.h>  // TAILQ_INIT for the query list
#include <event2/keyvalq_struct.h>

#include <cstring>

#include "common/event/address.h"
#include "manager/dashboard/static_files.h"
#include "msgc/health_record.h"

namespace ec::manager {
namespace {

constexpr const char* kJson = "application/json";

void Send(evhttp_request* request, int code, const char* reason, const char* type,
          const std::string& body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  // The dashboard loads nothing from elsewhere; a page injected into a log line could not either.
  evhttp_add_header(headers, "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  evbuffer* buf = evbuffer_new();
  if (!buf) {
    evhttp_send_error(request, 500, "Internal Server Error");
    return;
  }
  evbuffer_add(buf, body.data(), body.size());
  evhttp_send_reply(request, code, reason, buf);
  evbuffer_free(buf);
}

void SendJsonError(evhttp_request* request, int code, const char* reason, const Status& status) {
  Send(request, code, reason, kJson,
       "{\"error\":" + msgc::JsonQuote(status.message()) + "}\n");
}

}  // namespace

Result<std::unique_ptr<StatusHttpServer>> StatusHttpServer::Start(event::EventBase& base,
                                                                  const std::string& address,
                                                                  HttpRoutes routes) {
  EC_ASSIGN_OR_RETURN(event::SocketAddress where, event::SocketAddress::ParseHostPort(address));
  std::unique_ptr<StatusHttpServer> server(new StatusHttpServer(std::move(routes)));
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
  const auto method = evhttp_request_get_command(request);
  if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET, HEAD");
    evhttp_send_error(request, 405, "Method Not Allowed");
    return;
  }
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri ? evhttp_uri_get_path(uri) : nullptr;
  if (!path) {
    evhttp_send_error(request, 400, "Bad Request");
    return;
  }
  const std::string_view p = path;
  if (p == "/health" || p == "/api/health") {
    Send(request, 200, "OK", kJson, routes_.health());
  } else if (p == "/metrics") {
    Send(request, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", routes_.metrics());
  } else if (p == "/api/history" && routes_.history) {
    Send(request, 200, "OK", kJson, routes_.history());
  } else if (p == "/api/logs" && routes_.logs) {
    ServeLogs(request, uri);
  } else {
    ServeStatic(request, path);
  }
}

void StatusHttpServer::ServeLogs(evhttp_request* request, const evhttp_uri* uri) {
  evkeyvalq params{};  // an empty list; evhttp_parse_query_str initializes it too
  const char* query = evhttp_uri_get_query(uri);
  if (query && evhttp_parse_query_str(query, &params) != 0) {
    evhttp_clear_headers(&params);
    SendJsonError(request, 400, "Bad Request", InvalidArgument("malformed query string"));
    return;
  }
  auto param = [&params](const char* key) {
    const char* v = evhttp_find_header(&params, key);
    return std::string(v ? v : "");
  };
  auto parsed = dashboard::ParseLogQuery(param("node"), param("log"), param("lines"));
  evhttp_clear_headers(&params);
  if (!parsed.ok()) return SendJsonError(request, 400, "Bad Request", parsed.status());
  auto json = routes_.logs(*parsed);
  if (json.ok()) return Send(request, 200, "OK", kJson, *json);
  if (json.status().code() == StatusCode::kFailedPrecondition) {
    return SendJsonError(request, 409, "Conflict", json.status());
  }
  SendJsonError(request, 500, "Internal Server Error", json.status());
}

void StatusHttpServer::ServeStatic(evhttp_request* request, const char* path) {
  auto target = dashboard::ResolveStaticPath(path);
  if (!target.ok()) {
    if (target.status().code() == StatusCode::kInvalidArgument) {
      evhttp_send_error(request, 400, "Bad Request");
    } else {
      evhttp_send_error(request, 404, "Not Found (try /, /health or /metrics)");
    }
    return;
  }
  auto body = routes_.web_root.empty() ? Result<std::string>(NotFound("no web root"))
                                       : dashboard::ReadStaticFile(routes_.web_root, *target);
  if (!body.ok()) {
    evhttp_send_error(request, 404, "Not Found (try /, /health or /metrics)");
    return;
  }
  Send(request, 200, "OK", target->content_type, *body);
}

}  // namespace ec::manager
