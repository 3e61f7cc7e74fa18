// ConfigServer: ecconfigd's HTTPS endpoint (libevent evhttp over OpenSSL bufferevents) serving
// one bare repository per subcluster (see protocol.h for the requests). Fetches and long polls
// need the cluster secret; pushes need an admin password and are applied one at a time (the loop
// is single-threaded, and Repo::Push also takes the repository's flock against other processes).
// Long polls are answered as soon as a push lands here, and a short timer also notices pushes
// made directly on disk; each new head is also reported to `on_revision` (the bus notice).
// Everything runs on the loop thread of the event_base it is given; it must be destroyed on that
// thread, before the event_base.
#pragma once

#include <event2/http.h>
#include <openssl/ssl.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/event/handles.h"
#include "ecconfigd/auth.h"
#include "ecconfigd/repo.h"

namespace ec::ecconfigd {

struct ServerOptions {
  std::filesystem::path state_dir;  // repos (<subcluster>.git), certificate, secret, passwd
  std::filesystem::path seed_dir;   // the tree a new repository starts from
  std::vector<std::string> subclusters = {"default"};
  std::string address = "127.0.0.1";
  uint16_t port = 2027;  // 0: any free port (tests)
  std::chrono::seconds max_wait{60};
  // Called on the loop thread with each subcluster's head at start and whenever it moves.
  std::function<void(const std::string& subcluster, const git_oid& head)> on_revision;
};

class ConfigServer {
 public:
  // Creates missing repositories, certificate/key and cluster secret, then listens.
  static Result<std::unique_ptr<ConfigServer>> Start(event_base* base,
                                                     const ServerOptions& options);
  ConfigServer(const ConfigServer&) = delete;
  ConfigServer& operator=(const ConfigServer&) = delete;
  ~ConfigServer();

  uint16_t port() const { return port_; }
  std::filesystem::path certificate_file() const { return options_.state_dir / "server.crt"; }
  std::filesystem::path secret_file() const { return options_.state_dir / "cluster.secret"; }
  std::filesystem::path password_file() const { return options_.state_dir / "passwd"; }

 private:
  struct HttpDeleter {
    void operator()(evhttp* p) const { evhttp_free(p); }
  };
  struct Waiter {
    evhttp_request* request;
    std::string subcluster;
    git_oid have;
    std::chrono::steady_clock::time_point deadline;
  };

  ConfigServer(event_base* base, ServerOptions options)
      : base_(base), options_(std::move(options)) {}
  Status Init();
  static bufferevent* MakeBufferEvent(event_base* base, void* arg);
  static void OnRequest(evhttp_request* request, void* arg);
  static void OnConnectionClosed(evhttp_connection* connection, void* arg);
  static void OnTick(evutil_socket_t, short, void* arg);

  void Handle(evhttp_request* request);
  void HandleFetch(evhttp_request* request, Repo& repo,
                   const std::map<std::string, std::string>& p);
  void HandleWait(evhttp_request* request, const std::string& subcluster, Repo& repo,
                  const std::map<std::string, std::string>& params);
  void HandlePush(evhttp_request* request, Repo& repo, const std::string& user,
                  const std::map<std::string, std::string>& params);
  void AnswerWaiters(bool all);
  // Reports heads that moved since the last call to options_.on_revision.
  void NoticeHeads();

  event_base* base_;
  ServerOptions options_;
  std::shared_ptr<SSL_CTX> ssl_ctx_;
  std::unique_ptr<evhttp, HttpDeleter> http_;
  event::EventPtr tick_;
  std::map<std::string, Repo> repos_;
  std::string secret_;
  uint16_t port_ = 0;
  std::map<evhttp_connection*, Waiter> waiters_;
  std::map<std::string, std::string> noticed_heads_;  // subcluster -> hex last reported
};

}  // namespace ec::ecconfigd
