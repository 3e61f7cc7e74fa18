#include "mta/server/esmtp_listener.h"

#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "common/log/logger.h"

namespace ec::mta {

Status EsmtpListener::Apply(std::shared_ptr<InboundConfig> config) {
  EC_RETURN_IF_ERROR(OpenSockets(*config));
  bool reload = config_ != nullptr;
  config_ = std::move(config);
  if (reload) {
    for (auto& [ptr, conn] : connections_) conn->OnConfigReloaded();
  }
  return Status::Ok();
}

Status EsmtpListener::SetDuravips(std::set<std::string> managed, std::set<std::string> held) {
  duravip_managed_ = std::move(managed);
  duravip_held_ = std::move(held);
  if (!config_ || shutting_down_) return Status::Ok();
  Status s = OpenSockets(*config_);
  if (!s.ok()) EC_LOG(kError, "duravip listener not opened").Field("error", s);
  return s;
}

bool EsmtpListener::Withheld(const ListenSpec& spec) const {
  if (duravip_managed_.empty()) return false;
  const std::string ip = spec.address.host();
  return duravip_managed_.count(ip) && !duravip_held_.count(ip);
}

Status EsmtpListener::OpenSockets(const InboundConfig& config) {
  std::map<std::string, std::unique_ptr<event::Listener>> next;
  for (const ListenSpec& spec : config.listens()) {
    if (Withheld(spec)) continue;  // a DuraVIP this node does not own now
    auto it = sockets_.find(spec.name);
    if (it != sockets_.end()) {
      next[spec.name] = std::move(it->second);
      sockets_.erase(it);
      continue;
    }
    std::string name = spec.name;
    auto listener = event::Listener::Create(
        *services_.base, spec.address,
        [this, name](int fd, const event::SocketAddress& peer) { Accept(name, fd, peer); },
        event::ListenerOptions{.backlog = spec.backlog});
    if (!listener.ok()) {
      // Put back what we took so the old config keeps serving.
      for (auto& [n, l] : next) {
        if (l) sockets_[n] = std::move(l);
      }
      return listener.status().WithContext("Listen \"" + spec.name + "\"");
    }
    EC_LOG(kInfo, "listening")
        .Field("listen", spec.name)
        .Field("address", (*listener)->address().ToString());
    next[spec.name] = std::move(listener).value();
  }
  for (const auto& [name, socket] : sockets_) {
    EC_LOG(kInfo, "listen closed").Field("listen", name);
  }
  sockets_ = std::move(next);
  return Status::Ok();
}

std::map<std::string, std::string> EsmtpListener::BoundAddresses() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, socket] : sockets_) out[name] = socket->address().ToString();
  return out;
}

void EsmtpListener::Refuse(int fd, const event::SocketAddress& peer, const std::string& listen,
                           const char* reply, const char* why) {
  services_.stats->connections_refused++;
  // Best effort, non-blocking: the reply fits any socket buffer.
  ssize_t ignored = ::send(fd, reply, std::char_traits<char>::length(reply), MSG_NOSIGNAL);
  (void)ignored;
  ::close(fd);
  EC_LOG(kInfo, "connection refused")
      .Field("peer", peer.ToString())
      .Field("listen", listen)
      .Field("reason", why);
  if (services_.logs) {
    RejectionRecord r;
    r.time = std::time(nullptr);
    r.remote = peer.ToString();
    r.local = listen;
    r.phase = "connect";
    r.code = std::atoi(reply);
    r.text = why;
    services_.logs->Rejection(r);
  }
}

void EsmtpListener::Accept(const std::string& listen, int fd, const event::SocketAddress& peer) {
  if (shutting_down_) {
    Refuse(fd, peer, listen, "421 4.3.2 Service shutting down\r\n", "shutting down");
    return;
  }
  std::string ip = peer.host();
  auto settings = config_->SettingsFor(listen, ip);
  if (!settings.ok()) {
    EC_LOG(kError, "no settings for client")
        .Field("peer", peer.ToString())
        .Field("error", settings.status());
    Refuse(fd, peer, listen, "421 4.3.0 Configuration error, try again later\r\n",
           "configuration error");
    return;
  }
  if ((*settings)->refused) {
    Refuse(fd, peer, listen, "554 5.7.1 Access denied\r\n", "peer enable=false");
    return;
  }
  size_t per_listen_cap = config_->ListenerSessions(listen);
  if (per_listen_cap > 0 && per_listen_[listen] >= per_listen_cap) {
    Refuse(fd, peer, listen, "421 4.4.5 Too many sessions, try again later\r\n",
           "listener_sessions");
    return;
  }
  size_t service_cap = config_->ServiceSessions();
  if (service_cap > 0 && connections_.size() >= service_cap) {
    Refuse(fd, peer, listen, "421 4.4.5 Too many sessions, try again later\r\n",
           "service_sessions");
    return;
  }
  size_t per_address_cap = (*settings)->sessions_per_address;
  auto held = per_address_.find(ip);
  if (per_address_cap > 0 && held != per_address_.end() && held->second >= per_address_cap) {
    Refuse(fd, peer, listen, "421 4.7.0 Too many sessions from your address, try again later\r\n",
           "sessions_per_client_address");
    return;
  }
  // A socket accepted on a specific address has that address: getsockname only for wildcards.
  event::SocketAddress local;
  if (auto bound = sockets_.find(listen);
      bound != sockets_.end() && !bound->second->address().is_unspecified()) {
    local = bound->second->address();
  } else if (auto asked = event::SocketAddress::LocalOf(fd); asked.ok()) {
    local = *asked;
  }
  auto conn = SmtpConnection::Start(
      services_, *settings, fd, peer, local,
      [this, listen, ip](SmtpConnection* c) { Forget(c, listen, ip); });
  connections_[conn.get()] = conn;
  ++per_listen_[listen];
  ++per_address_[ip];
}

void EsmtpListener::Forget(SmtpConnection* c, const std::string& listen, const std::string& ip) {
  if (connections_.erase(c) == 0) return;
  --per_listen_[listen];
  // Erased at zero so a flood of distinct addresses leaves nothing behind.
  auto it = per_address_.find(ip);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

void EsmtpListener::BeginShutdown() {
  shutting_down_ = true;
  sockets_.clear();
  // BeginShutdown may close connections, which removes them from the map later (deferred).
  for (auto& [ptr, conn] : connections_) conn->BeginShutdown();
}

}  // namespace ec::mta
