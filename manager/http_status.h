// StatusHttpServer: eccmgr's small HTTP server (libevent evhttp) for monitoring, default port
// 8081: GET /health (JSON) and /metrics (Prometheus text format 0.0.4), and the web dashboard:
// its JSON views /api/health (= /health), /api/history, /api/logs?node=&log=&lines=, and its
// static files from the web root (manager/dashboard/static_files.h; "/" is index.html).
// Read-only; other methods get 405, unknown paths 404, paths trying to leave the web root 400.
// Owned by ManagerDaemon; loop thread of its EventBase, which must outlive it.
#pragma once

#include <event2/http.h>

#include <functional>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/event/event_base.h"
#include "manager/dashboard/log_tail.h"

namespace ec::manager {

struct HttpRoutes {
  using Page = std::function<std::string()>;
  Page health;
  Page metrics;
  Page history;  // /api/history; null: 404
  // /api/logs; null: 404. kFailedPrecondition (logs not collected) answers 409.
  std::function<Result<std::string>(const dashboard::LogQuery&)> logs;
  std::string web_root;  // the dashboard's files; empty: none served
};

class StatusHttpServer {
 public:
  // `address` is "host:port" (numeric host; port 0 picks one).
  static Result<std::unique_ptr<StatusHttpServer>> Start(event::EventBase& base,
                                                         const std::string& address,
                                                         HttpRoutes routes);
  ~StatusHttpServer();
  StatusHttpServer(const StatusHttpServer&) = delete;
  StatusHttpServer& operator=(const StatusHttpServer&) = delete;

  // The bound "host:port" (the real port after port 0).
  const std::string& address() const { return address_; }
  uint64_t requests() const { return requests_; }
  // A reload's new status_http_web_root: the next request reads from it (same thread).
  const std::string& web_root() const { return routes_.web_root; }
  void set_web_root(std::string root) { routes_.web_root = std::move(root); }

 private:
  explicit StatusHttpServer(HttpRoutes routes) : routes_(std::move(routes)) {}
  static void OnRequest(evhttp_request* request, void* arg);
  void Handle(evhttp_request* request);
  void ServeLogs(evhttp_request* request, const evhttp_uri* uri);
  void ServeStatic(evhttp_request* request, const char* path);

  HttpRoutes routes_;
  evhttp* http_ = nullptr;
  std::string address_;
  uint64_t requests_ = 0;
};

}  // namespace ec::manager
