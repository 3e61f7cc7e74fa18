// StatusHttpServer: eccmgr's small HTTP server (libevent evhttp) for monitoring: GET /health
// (JSON) and GET /metrics (Prometheus text format 0.0.4), default port 8081. Read-only; other
// methods get 405, other paths 404. Owned by ManagerDaemon; loop thread of its EventBase, which
// must outlive it.
#pragma once

#include <event2/http.h>

#include <functional>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/event/event_base.h"

namespace ec::manager {

class StatusHttpServer {
 public:
  using Page = std::function<std::string()>;

  // `address` is "host:port" (numeric host; port 0 picks one).
  static Result<std::unique_ptr<StatusHttpServer>> Start(event::EventBase& base,
                                                         const std::string& address, Page health,
                                                         Page metrics);
  ~StatusHttpServer();
  StatusHttpServer(const StatusHttpServer&) = delete;
  StatusHttpServer& operator=(const StatusHttpServer&) = delete;

  // The bound "host:port" (the real port after port 0).
  const std::string& address() const { return address_; }
  uint64_t requests() const { return requests_; }

 private:
  StatusHttpServer(Page health, Page metrics)
      : health_(std::move(health)), metrics_(std::move(metrics)) {}
  static void OnRequest(evhttp_request* request, void* arg);
  void Handle(evhttp_request* request);

  Page health_;
  Page metrics_;
  evhttp* http_ = nullptr;
  std::string address_;
  uint64_t requests_ = 0;
};

}  // namespace ec::manager
