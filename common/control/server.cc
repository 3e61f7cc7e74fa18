#include "common/control/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "common/control/session.h"
#include "common/log/logger.h"

namespace ec::control {

Server::Server(event::EventBase& base, ServerOptions options)
    : base_(base), options_(std::move(options)) {}

Result<std::unique_ptr<Server>> Server::Start(event::EventBase& base, ServerOptions options) {
  if (options.unix_path.empty() && options.tcp_address.empty()) {
    return InvalidArgument("control server needs a unix socket path or a TCP address");
  }
  if (options.version.empty()) options.version = std::string("ec ") + EC_VERSION;
  std::unique_ptr<Server> server(new Server(base, std::move(options)));
  server->RegisterBuiltins();
  auto accept = [s = server.get()](int fd, const event::SocketAddress& peer) {
    s->Accept(fd, peer);
  };
  event::ListenerOptions listen_options;
  listen_options.unix_mode = server->options_.unix_mode;
  if (!server->options_.unix_path.empty()) {
    EC_ASSIGN_OR_RETURN(event::SocketAddress address,
                        event::SocketAddress::Unix(server->options_.unix_path));
    EC_ASSIGN_OR_RETURN(server->unix_listener_,
                        event::Listener::Create(base, address, accept, listen_options));
  }
  if (!server->options_.tcp_address.empty()) {
    EC_ASSIGN_OR_RETURN(event::SocketAddress address,
                        event::SocketAddress::ParseHostPort(server->options_.tcp_address));
    EC_ASSIGN_OR_RETURN(server->tcp_listener_,
                        event::Listener::Create(base, address, accept, listen_options));
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

void Server::Accept(int fd, const event::SocketAddress& peer) {
  std::string peer_name = peer.is_unix() ? "unix" : peer.ToString();
  if (sessions_.size() >= options_.max_sessions) {
    // Best effort: a non-blocking send of the refusal, then close.
    std::string refusal = EncodeResponse({false, "too many console sessions; try again later"});
    (void)!send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
    EC_LOG(kWarn, "console session refused: too many sessions").Field("peer", peer_name);
    return;
  }
  auto session = std::make_shared<Session>(this, next_session_id_++, peer_name);
  if (!session->Open(fd)) return;
  sessions_.emplace(session.get(), std::move(session));
}

void Server::Remove(Session* session) { sessions_.erase(session); }

}  // namespace ec::control
