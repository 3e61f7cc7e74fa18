#include "ecconfigd/server.h"

#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/log/logger.h"
#include "common/tls/tls_context.h"
#include "ecconfigd/protocol.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxBody = 64 * 1024 * 1024;
constexpr timeval kTick = {0, 200 * 1000};

void Reply(evhttp_request* request, int code, std::string_view body,
           const std::string& head_hex = "") {
  event::EvBufferPtr out(evbuffer_new());
  evbuffer_add(out.get(), body.data(), body.size());
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  if (!head_hex.empty()) evhttp_add_header(headers, kHeadHeader, head_hex.c_str());
  evhttp_add_header(headers, "Content-Type",
                    code == 200 && body.substr(0, 4) == "PACK" ? "application/x-git-packed-objects"
                                                               : "text/plain");
  evhttp_send_reply(request, code, nullptr, out.get());
}

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

  http_.reset(evhttp_new(base_));
  if (!http_) return Internal("evhttp_new failed");
  evhttp_set_bevcb(http_.get(), &ConfigServer::MakeBufferEvent, this);
  evhttp_set_gencb(http_.get(), &ConfigServer::OnRequest, this);
  evhttp_set_max_body_size(http_.get(), kMaxBody);
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_POST);
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(http_.get(), options_.address.c_str(), options_.port);
  if (bound == nullptr) {
    return Unavailable("cannot listen on " + options_.address + ":" +
                       std::to_string(options_.port));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr*>(&addr), &len) ==
      0) {
    port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                       : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  tick_.reset(event_new(base_, -1, EV_PERSIST, &ConfigServer::OnTick, this));
  event_add(tick_.get(), &kTick);
  NoticeHeads();
  EC_LOG(kInfo, "ecconfigd listening")
      .Field("address", options_.address)
      .Field("port", static_cast<int>(port_));
  return Status::Ok();
}

ConfigServer::~ConfigServer() {
  // Long polls still open get an answer before the connections go.
  for (auto& [connection, waiter] : waiters_) {
    evhttp_connection_set_closecb(connection, nullptr, nullptr);
    Reply(waiter.request, 503, "ecconfigd is shutting down\n");
  }
  waiters_.clear();
  tick_.reset();
  http_.reset();
}

bufferevent* ConfigServer::MakeBufferEvent(event_base* base, void* arg) {
  auto* self = static_cast<ConfigServer*>(arg);
  SSL* ssl = SSL_new(self->ssl_ctx_.get());
  if (ssl == nullptr) return nullptr;
  return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                        BEV_OPT_CLOSE_ON_FREE);
}

void ConfigServer::OnRequest(evhttp_request* request, void* arg) {
  auto* self = static_cast<ConfigServer*>(arg);
  try {
    self->Handle(request);
  } catch (const std::exception& e) {
    EC_LOG(kError, "request failed").Field("error", e.what());
    Reply(request, 500, "internal error\n");
  }
}

void ConfigServer::OnConnectionClosed(evhttp_connection* connection, void* arg) {
  static_cast<ConfigServer*>(arg)->waiters_.erase(connection);
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

void ConfigServer::Handle(evhttp_request* request) {
  const char* uri = evhttp_request_get_uri(request);
  auto target = ParseRequestTarget(uri == nullptr ? "" : uri);
  if (!target.ok()) {
    Reply(request, HttpCode(target.status()), target.status().message() + "\n");
    return;
  }
  auto repo_it = repos_.find(target->subcluster);
  if (repo_it == repos_.end()) {
    Reply(request, 404, "no subcluster " + target->subcluster + "\n");
    return;
  }
  const char* auth = evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
  std::string_view auth_text = auth == nullptr ? "" : auth;
  bool is_push = target->operation == "push";
  if (is_push != (evhttp_request_get_command(request) == EVHTTP_REQ_POST)) {
    Reply(request, 405, "use POST for push and GET otherwise\n");
    return;
  }
  if (is_push) {
    auto credentials = ParseBasicAuth(auth_text);
    auto passwords = PasswordFile::Load(password_file());
    if (!passwords.ok()) {
      Reply(request, 500, passwords.status().message() + "\n");
      return;
    }
    if (!credentials.ok() || !passwords->Verify(credentials->user, credentials->password)) {
      EC_LOG(kWarn, "push refused: bad credentials")
          .Field("user", credentials.ok() ? credentials->user : "");
      Reply(request, 401, "wrong user name or password\n");
      return;
    }
    HandlePush(request, repo_it->second, credentials->user, target->params);
    return;
  }
  auto token = ParseBearer(auth_text);
  if (!token.ok() || !SecretsEqual(*token, secret_)) {
    Reply(request, 401, "wrong or missing cluster secret\n");
    return;
  }
  if (target->operation == "fetch") {
    HandleFetch(request, repo_it->second, target->params);
  } else {
    HandleWait(request, target->subcluster, repo_it->second, target->params);
  }
}

void ConfigServer::HandleFetch(evhttp_request* request, Repo& repo,
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

void ConfigServer::HandleWait(evhttp_request* request, const std::string& subcluster, Repo& repo,
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
  evhttp_connection* connection = evhttp_request_get_connection(request);
  auto head = repo.Head();
  if (!head.ok() || !git_oid_equal(&*head, &**have) || connection == nullptr ||
      waiters_.count(connection) != 0) {
    std::string hex = head.ok() ? OidToHex(*head) : "";
    Reply(request, head.ok() ? 200 : 500, head.ok() ? hex + "\n" : head.status().message(), hex);
    return;
  }
  waiters_[connection] = {request, subcluster, **have, std::chrono::steady_clock::now() + timeout};
  evhttp_connection_set_closecb(connection, &ConfigServer::OnConnectionClosed, this);
}

void ConfigServer::HandlePush(evhttp_request* request, Repo& repo, const std::string& user,
                              const std::map<std::string, std::string>& params) {
  auto old_head = OptionalOid(params, "old");
  auto new_head = OptionalOid(params, "new");
  if (!old_head.ok() || !new_head.ok() || !*old_head || !*new_head) {
    Reply(request, 400, "push needs old=<revision>&new=<revision>\n");
    return;
  }
  evbuffer* in = evhttp_request_get_input_buffer(request);
  std::string pack(evbuffer_get_length(in), '\0');
  evbuffer_copyout(in, pack.data(), pack.size());
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
      evhttp_connection_set_closecb(it->first, nullptr, nullptr);
      std::string hex = head.ok() ? OidToHex(*head) : "";
      Reply(w.request, head.ok() ? 200 : 500, head.ok() ? hex + "\n" : head.status().message(),
            hex);
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ec::ecconfigd
