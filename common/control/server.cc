#include "common/control/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "common/control/session.h"
#include "common/log/logger.h"

namespace ec::control {

Server::Server(event::EventBase& base, ServerOptions options)
    : base_(base),
      options_(std::move(options)),
      login_failures_(options_.login_failures_per_peer, options_.login_failure_window) {}

Result<std::unique_ptr<Server>> Server::Start(event::EventBase& base, ServerOptions options) {
  if (options.unix_path.empty() && options.tcp_address.empty()) {
    return InvalidArgument("control server needs a unix socket path or a TCP address");
  }
  if (!options.tcp_address.empty() && !options.tcp_users) {
    // Every local user can reach a loopback port: without logins that is root's console.
    return InvalidArgument("a TCP console (" + options.tcp_address +
                           ") needs AuthLoginParameters = [ uri = \"file:///...\" ]");
  }
  if (options.version.empty()) options.version = std::string("ec ") + EC_VERSION;
  std::unique_ptr<Server> server(new Server(base, std::move(options)));
  server->RegisterBuiltins();
  auto accept = [s = server.get()](bool tcp) {
    return [s, tcp](int fd, const event::SocketAddress& peer) { s->Accept(fd, peer, tcp); };
  };
  event::ListenerOptions listen_options;
  listen_options.unix_mode = server->options_.unix_mode;
  listen_options.unix_group = server->options_.unix_group;
  if (!server->options_.unix_path.empty()) {
    EC_ASSIGN_OR_RETURN(event::SocketAddress address,
                        event::SocketAddress::Unix(server->options_.unix_path));
    EC_ASSIGN_OR_RETURN(server->unix_listener_,
                        event::Listener::Create(base, address, accept(false), listen_options));
  }
  if (!server->options_.tcp_address.empty()) {
    EC_ASSIGN_OR_RETURN(event::SocketAddress address,
                        event::SocketAddress::ParseHostPort(server->options_.tcp_address));
    EC_ASSIGN_OR_RETURN(server->tcp_listener_,
                        event::Listener::Create(base, address, accept(true), listen_options));
  }
  EC_LOG(kInfo, "control server listening")
      .Field("unix", server->unix_listener_ ? server->unix_listener_->address().ToString() : "")
      .Field("tcp", server->tcp_listener_ ? server->tcp_listener_->address().ToString() : "");
  return server;
}

Server::~Server() {
  unix_listener_.reset();
  tcp_listener_.reset();
  sessions_.clear();
}

const event::SocketAddress* Server::tcp_address() const {
  return tcp_listener_ ? &tcp_listener_->address() : nullptr;
}

void Server::RegisterBuiltins() {
  auto must = [](Status s) { EC_CHECK(s.ok()); };
  must(commands_.RegisterSync("help", "list the commands",
                              [this](const Request&) -> Result<std::string> {
                                return "Commands:\n" + commands_.HelpText();
                              }));
  must(commands_.RegisterSync(
      "version", "show the program version",
      [this](const Request&) -> Result<std::string> { return options_.version; }));
  // The session closes itself after this reply.
  must(commands_.RegisterSync(
      "quit", "end this console session",
      [](const Request&) -> Result<std::string> { return std::string("bye"); }));
}

void Server::Accept(int fd, const event::SocketAddress& peer, bool tcp) {
  std::string peer_name = tcp ? peer.ToString() : "unix";
  // A unix peer is whoever the kernel says it is; a TCP peer is nobody until `login`.
  std::string principal;
  if (!tcp) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      principal = "uid:" + std::to_string(cred.uid);
      peer_name = "unix:" + principal;
    }
  }
  if (sessions_.size() >= options_.max_sessions) {
    // Best effort: a non-blocking send of the refusal, then close.
    std::string refusal = EncodeResponse({false, "too many console sessions; try again later"});
    (void)!send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
    EC_LOG(kWarn, "console session refused: too many sessions").Field("peer", peer_name);
    return;
  }
  std::string listener = options_.unix_path;
  if (tcp) listener = tcp_address() ? tcp_address()->ToString() : options_.tcp_address;
  auto session =
      std::make_shared<Session>(this, next_session_id_++,
                                Session::Peer{.name = peer_name,
                                              .host = tcp ? peer.host() : std::string(),
                                              .principal = std::move(principal),
                                              .needs_login = tcp,
                                              .listener = std::move(listener),
                                              .address = tcp ? peer.ToString() : std::string()});
  if (!session->Open(fd)) return;
  sessions_.emplace(session.get(), std::move(session));
}

void Server::Remove(Session* session) { sessions_.erase(session); }

}  // namespace ec::control
