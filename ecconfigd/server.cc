#include "ecconfigd/server.h"

#include "common/log/logger.h"
#include "common/tls/tls_context.h"
#include "ecconfigd/enrol_request.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;
namespace {

constexpr timeval kTick = {0, 200 * 1000};

int HttpCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPermissionDenied:
      return 401;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return 503;
    default:
      return 500;
  }
}

Result<std::optional<git_oid>> OptionalOid(const std::map<std::string, std::string>& params,
                                           const std::string& key) {
  auto it = params.find(key);
  if (it == params.end() || it->second.empty()) return std::optional<git_oid>();
  EC_ASSIGN_OR_RETURN(git_oid oid, ParseOid(it->second));
  return std::optional<git_oid>(oid);
}

}  // namespace

Result<std::unique_ptr<ConfigServer>> ConfigServer::Start(event_base* base,
                                                          const ServerOptions& options) {
  std::unique_ptr<ConfigServer> server(new ConfigServer(base, options));
  EC_RETURN_IF_ERROR(server->Init());
  return server;
}

Status ConfigServer::Init() {
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  if (ec) return Status(StatusCode::kIoError, "creating " + options_.state_dir.string());
  for (const std::string& name : options_.subclusters) {
    if (!ValidSubclusterName(name)) return InvalidArgument("bad subcluster name " + name);
    EC_ASSIGN_OR_RETURN(Repo repo, Repo::OpenOrCreate(options_.state_dir / (name + ".git"),
                                                      options_.seed_dir, Author{}));
    repos_.emplace(name, std::move(repo));
  }
  EC_ASSIGN_OR_RETURN(secret_, LoadOrCreateSecret(secret_file()));
  fs::path cert = certificate_file(), key = options_.state_dir / "server.key";
  if (!fs::exists(cert, ec) || !fs::exists(key, ec)) {
    EC_RETURN_IF_ERROR(tls::WriteSelfSignedCertificate(cert.string(), key.string(), "ecconfigd",
                                                       {"localhost"}, {options_.address}, 365));
  }
  EC_ASSIGN_OR_RETURN(ssl_ctx_,
                      tls::MakeServerContext({cert.string(), key.string(), "", "", false}));

  EC_ASSIGN_OR_RETURN(checker_, PasswordChecker::Create(base_, password_file(),
                                                       options_.max_pending_password_checks));
  HttpServer::Handlers handlers;
  handlers.on_head = [this](ExchangeId id, const HttpRequestHead& head, const std::string& peer) {
    OnHead(id, head, peer);
  };
  handlers.on_body = [this](ExchangeId id, std::string body) { OnBody(id, std::move(body)); };
  handlers.on_close = [this](ExchangeId id) {
    exchanges_.erase(id);
    waiters_.erase(id);
  };
  EC_ASSIGN_OR_RETURN(http_, HttpServer::Start(base_, ssl_ctx_, options_.address, options_.port,
                                               options_.http, std::move(handlers)));
  tick_.reset(event_new(base_, -1, EV_PERSIST, &ConfigServer::OnTick, this));
  event_add(tick_.get(), &kTick);
  NoticeHeads();
  EC_LOG(kInfo, "ecconfigd listening")
      .Field("address", options_.address)
      .Field("port", static_cast<int>(http_->port()));
  return Status::Ok();
}

ConfigServer::~ConfigServer() {
  // Long polls still open get an answer before the connections go.
  for (auto& [id, waiter] : waiters_) Reply(id, 503, "ecconfigd is shutting down\n");
  waiters_.clear();
  tick_.reset();
  checker_.reset();  // joins the worker before the connections its answers name go
  http_.reset();
}

void ConfigServer::Reply(ExchangeId id, int code, std::string_view body,
                         const std::string& head_hex) {
  exchanges_.erase(id);
  HttpHeaders headers = {{"Content-Type", code == 200 && body.substr(0, 4) == "PACK"
                                              ? "application/x-git-packed-objects"
                                              : "text/plain"}};
  if (!head_hex.empty()) headers.emplace_back(kHeadHeader, head_hex);
  http_->Reply(id, code, body, headers);
}

void ConfigServer::OnTick(evutil_socket_t, short, void* arg) {
  try {
    auto* self = static_cast<ConfigServer*>(arg);
    self->AnswerWaiters(false);
    self->NoticeHeads();
  } catch (const std::exception& e) {
    EC_LOG(kError, "long poll check failed").Field("error", e.what());
  }
}

// Everything about who may ask is decided here, from the head alone: no body is read for a
// request whose credentials are missing or wrong, or whose address is throttled.
void ConfigServer::OnHead(ExchangeId id, const HttpRequestHead& head, const std::string& peer) {
  if (IsEnrolTarget(head.target)) {
    OnEnrolHead(id, head, peer);
    return;
  }
  auto target = ParseRequestTarget(head.target);
  if (!target.ok()) {
    Reply(id, HttpCode(target.status()), target.status().message() + "\n");
    return;
  }
  if (repos_.count(target->subcluster) == 0) {
    Reply(id, 404, "no subcluster " + target->subcluster + "\n");
    return;
  }
  bool is_push = target->operation == "push";
  if (head.method != (is_push ? "POST" : "GET")) {
    Reply(id, 405, "use POST for push and GET otherwise\n");
    return;
  }
  if (RefuseIfThrottled(id, peer)) return;
  std::string auth = head.Header("authorization");
  Exchange& exchange = exchanges_[id];
  exchange.target = std::move(*target);
  exchange.peer = peer;
  if (!is_push) {
    auto credential = ParseFetchAuthorization(auth);
    if (!credential.ok()) {
      RefuseLogin(id, peer, "wrong or missing cluster secret", "");
      return;
    }
    if (credential->node.empty()) {  // the cluster secret of nodes bootstrapped with it
      if (!SecretsEqual(credential->secret, secret_)) {
        RefuseLogin(id, peer, "wrong or missing cluster secret", "");
        return;
      }
    } else {
      auto ok = credentials_.Verify(credential->node, credential->secret);
      if (!ok.ok()) {
        EC_LOG(kError, "cannot check a node credential").Field("error", ok.status());
        Reply(id, 500, ok.status().message() + "\n");
        return;
      }
      if (!*ok) {
        RefuseLogin(id, peer,
                    "wrong or revoked fetch credential for node " + credential->node +
                        " (re-enrol it: ecconfigd enroll " + credential->node + ")",
                    credential->node);
        return;
      }
    }
    http_->ReadBody(id, 0);  // fetch and wait carry no body
    return;
  }
  auto credentials = ParseBasicAuth(auth);
  if (!credentials.ok()) {
    RefuseLogin(id, peer, "wrong user name or password", "");
    return;
  }
  exchange.user = credentials->user;
  if (!checker_->Check(credentials->user, std::move(credentials->password),
                       [this, id](Result<bool> ok) { OnPasswordChecked(id, std::move(ok)); })) {
    EC_LOG(kWarn, "push refused: too many password checks waiting").Field("address", peer);
    Reply(id, 503, "ecconfigd is busy checking passwords; try again\n");
  }
}

bool ConfigServer::RefuseIfThrottled(ExchangeId id, const std::string& peer) {
  auto wait = throttle_.Blocked(peer, std::chrono::steady_clock::now());
  if (wait.count() <= 0) return false;
  EC_LOG(kWarn, "login throttled").Field("address", peer).Field("retry_after", wait.count());
  exchanges_.erase(id);
  http_->Reply(id, 429, "too many failed logins from " + peer + "; try again later\n",
               {{"Content-Type", "text/plain"}, {"Retry-After", std::to_string(wait.count())}});
  return true;
}

void ConfigServer::OnPasswordChecked(ExchangeId id, Result<bool> ok) {
  auto it = exchanges_.find(id);
  if (it == exchanges_.end()) return;  // the client hung up meanwhile
  if (!ok.ok()) {
    EC_LOG(kError, "cannot check the password").Field("error", ok.status());
    Reply(id, 500, ok.status().message() + "\n");
    return;
  }
  if (!*ok) {
    RefuseLogin(id, it->second.peer, "wrong user name or password", it->second.user);
    return;
  }
  http_->ReadBody(id, options_.max_push_bytes);
}

void ConfigServer::RefuseLogin(ExchangeId id, const std::string& peer, const std::string& what,
                               const std::string& user) {
  throttle_.Failure(peer, std::chrono::steady_clock::now());
  EC_LOG(kWarn, "request refused: bad credentials")
      .Field("address", peer)
      .Field("user", user)
      .Field("reason", what);
  Reply(id, 401, what + "\n");
}

void ConfigServer::OnBody(ExchangeId id, std::string body) {
  auto it = exchanges_.find(id);
  if (it == exchanges_.end()) return;
  try {
    const Exchange& x = it->second;
    if (x.target.operation == "enrol") {
      Exchange copy = x;
      HandleEnrol(id, copy, body);
      return;
    }
    Repo& repo = repos_.at(x.target.subcluster);
    if (x.target.operation == "push") {
      std::string user = x.user;
      auto params = x.target.params;
      HandlePush(id, repo, user, params, body);
    } else if (x.target.operation == "fetch") {
      HandleFetch(id, repo, x.target.params);
    } else {
      std::string subcluster = x.target.subcluster;
      auto params = x.target.params;
      HandleWait(id, subcluster, repo, params);
    }
  } catch (const std::exception& e) {
    EC_LOG(kError, "request failed").Field("error", e.what());
    Reply(id, 500, "internal error\n");
  }
}

void ConfigServer::HandleFetch(ExchangeId request, Repo& repo,
                               const std::map<std::string, std::string>& params) {
  auto have = OptionalOid(params, "have");
  if (!have.ok()) {
    Reply(request, 400, have.status().message() + "\n");
    return;
  }
  auto head = repo.Head();
  if (!head.ok()) {
    Reply(request, 500, head.status().message() + "\n");
    return;
  }
  std::string head_hex = OidToHex(*head);
  if (*have && git_oid_equal(&**have, &*head)) {
    Reply(request, 200, "", head_hex);
    return;
  }
  auto pack = repo.PackSince(*have);
  if (!pack.ok()) {
    Reply(request, HttpCode(pack.status()), pack.status().message() + "\n");
    return;
  }
  Reply(request, 200, *pack, head_hex);
}

void ConfigServer::HandleWait(ExchangeId request, const std::string& subcluster, Repo& repo,
                              const std::map<std::string, std::string>& params) {
  auto have = OptionalOid(params, "have");
  if (!have.ok() || !*have) {
    Reply(request, 400, "wait needs have=<revision>\n");
    return;
  }
  auto timeout = options_.max_wait;
  if (auto it = params.find("timeout"); it != params.end()) {
    int seconds = std::atoi(it->second.c_str());
    if (seconds > 0) timeout = std::min(timeout, std::chrono::seconds(seconds));
  }
  auto head = repo.Head();
  if (!head.ok() || !git_oid_equal(&*head, &**have)) {
    std::string hex = head.ok() ? OidToHex(*head) : "";
    Reply(request, head.ok() ? 200 : 500, head.ok() ? hex + "\n" : head.status().message(), hex);
    return;
  }
  exchanges_.erase(request);
  waiters_[request] = {subcluster, **have, std::chrono::steady_clock::now() + timeout};
}

void ConfigServer::HandlePush(ExchangeId request, Repo& repo, const std::string& user,
                              const std::map<std::string, std::string>& params,
                              const std::string& pack) {
  auto old_head = OptionalOid(params, "old");
  auto new_head = OptionalOid(params, "new");
  if (!old_head.ok() || !new_head.ok() || !*old_head || !*new_head) {
    Reply(request, 400, "push needs old=<revision>&new=<revision>\n");
    return;
  }
  auto pushed = repo.Push(**old_head, **new_head, pack, user);
  if (!pushed.ok()) {
    auto head = repo.Head();
    EC_LOG(kWarn, "push refused").Field("user", user).Field("error", pushed.status());
    Reply(request, HttpCode(pushed.status()), pushed.status().message() + "\n",
          head.ok() ? OidToHex(*head) : "");
    return;
  }
  EC_LOG(kInfo, "push accepted").Field("user", user).Field("revision", OidToHex(*pushed));
  Reply(request, 200, OidToHex(*pushed) + "\n", OidToHex(*pushed));
  AnswerWaiters(false);
  NoticeHeads();
}

void ConfigServer::NoticeHeads() {
  if (!options_.on_revision) return;
  for (auto& [name, repo] : repos_) {
    auto head = repo.Head();
    if (!head.ok()) continue;
    std::string hex = OidToHex(*head);
    std::string& known = noticed_heads_[name];
    if (known == hex) continue;
    known = hex;
    options_.on_revision(name, *head);
  }
}

void ConfigServer::AnswerWaiters(bool all) {
  auto now = std::chrono::steady_clock::now();
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    Waiter& w = it->second;
    auto head = repos_.at(w.subcluster).Head();
    bool changed = head.ok() && !git_oid_equal(&*head, &w.have);
    if (all || changed || !head.ok() || now >= w.deadline) {
      std::string hex = head.ok() ? OidToHex(*head) : "";
      ExchangeId id = it->first;
      it = waiters_.erase(it);
      Reply(id, head.ok() ? 200 : 500, head.ok() ? hex + "\n" : head.status().message(),
            hex);
    } else {
      ++it;
    }
  }
}

}  // namespace ec::ecconfigd
