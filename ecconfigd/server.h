// ConfigServer: ecconfigd's HTTPS endpoint (HttpServer: OpenSSL bufferevents, with the input
// limits) serving one bare repository per subcluster (see protocol.h for the requests). Fetches
// and long polls need a node's own fetch credential (node_credential_store.h) or, for nodes
// bootstrapped with it, the cluster secret; pushes need an admin password. Credentials are checked
// from the head before any body is read; failed logins are throttled per client address; admin
// passwords are verified on the PasswordChecker's worker thread. Pushes are applied one at a time
// (the loop is single-threaded, and Repo::Push also takes the repository's flock).
// Long polls are answered as soon as a push lands here, and a short timer also notices pushes
// made directly on disk; each new head is also reported to `on_revision` (the bus notice).
// Everything runs on the loop thread of the event_base it is given; it must be destroyed on that
// thread, before the event_base.
#pragma once

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
#include "ecconfigd/enrol_store.h"
#include "ecconfigd/http_server.h"
#include "ecconfigd/login_throttle.h"
#include "ecconfigd/node_credential_store.h"
#include "ecconfigd/password_checker.h"
#include "ecconfigd/protocol.h"
#include "ecconfigd/repo.h"

namespace ec::ecconfigd {

struct ServerOptions {
  std::filesystem::path state_dir;  // repos (<subcluster>.git), certificate, secret, passwd
  std::filesystem::path seed_dir;   // the tree a new repository starts from
  std::vector<std::string> subclusters = {"default"};
  std::string address = "127.0.0.1";
  uint16_t port = 2027;  // 0: any free port (tests)
  std::chrono::seconds max_wait{60};
  HttpLimits http;                              // header, connection and time caps
  size_t max_push_bytes = 64 * 1024 * 1024;     // body cap of a push (a pack)
  LoginThrottle::Limits throttle;               // failed logins per client address
  size_t max_pending_password_checks = 16;      // beyond: 503
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

  uint16_t port() const { return http_->port(); }
  std::filesystem::path certificate_file() const { return options_.state_dir / "server.crt"; }
  std::filesystem::path secret_file() const { return options_.state_dir / "cluster.secret"; }
  std::filesystem::path password_file() const { return options_.state_dir / "passwd"; }
  std::filesystem::path node_credentials_file() const { return credentials_.file(); }

 private:
  struct Exchange {
    RequestTarget target;
    std::string peer;
    std::string user;  // push: the authenticated admin
    std::string token;  // enrol: the token from the head, redeemed once the body is here
  };
  struct Waiter {
    std::string subcluster;
    git_oid have;
    std::chrono::steady_clock::time_point deadline;
  };

  ConfigServer(event_base* base, ServerOptions options)
      : base_(base), options_(std::move(options)), throttle_(options_.throttle) {}
  Status Init();
  static void OnTick(evutil_socket_t, short, void* arg);

  void OnHead(ExchangeId id, const HttpRequestHead& head, const std::string& peer);
  // 429 when `peer` is throttled (true: answered).
  bool RefuseIfThrottled(ExchangeId id, const std::string& peer);
  // Enrolment (enrol_handler.cc; routes in enrol_request.h).
  void OnEnrolHead(ExchangeId id, const HttpRequestHead& head, const std::string& peer);
  void HandleEnrol(ExchangeId id, const Exchange& exchange, const std::string& body);
  // Issues the node's fetch credential (*credential), then commits its key and peers entry.
  Status CommitEnrolment(const EnrolEntry& entry, const std::string& public_key,
                         const std::string& peer, std::string* revision, std::string* credential);
  void OnPasswordChecked(ExchangeId id, Result<bool> ok);
  void OnBody(ExchangeId id, std::string body);
  // Answers 401 and counts a failed login for the exchange's address.
  void RefuseLogin(ExchangeId id, const std::string& peer, const std::string& what,
                   const std::string& user);
  void Reply(ExchangeId id, int code, std::string_view body, const std::string& head_hex = "");
  void HandleFetch(ExchangeId id, Repo& repo, const std::map<std::string, std::string>& params);
  void HandleWait(ExchangeId id, const std::string& subcluster, Repo& repo,
                  const std::map<std::string, std::string>& params);
  void HandlePush(ExchangeId id, Repo& repo, const std::string& user,
                  const std::map<std::string, std::string>& params, const std::string& pack);
  void AnswerWaiters(bool all);
  // Reports heads that moved since the last call to options_.on_revision.
  void NoticeHeads();

  event_base* base_;
  ServerOptions options_;
  LoginThrottle throttle_;
  std::shared_ptr<SSL_CTX> ssl_ctx_;
  std::unique_ptr<PasswordChecker> checker_;
  std::unique_ptr<HttpServer> http_;
  event::EventPtr tick_;
  std::map<std::string, Repo> repos_;
  std::string secret_;
  EnrolStore enrol_{options_.state_dir};
  NodeCredentialStore credentials_{options_.state_dir};
  std::map<ExchangeId, Exchange> exchanges_;  // heads accepted, not yet answered
  std::map<ExchangeId, Waiter> waiters_;
  std::map<std::string, std::string> noticed_heads_;  // subcluster -> hex last reported
};

}  // namespace ec::ecconfigd
