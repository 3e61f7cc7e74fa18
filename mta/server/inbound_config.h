// InboundConfig: what the ESMTP listener needs from one config snapshot, resolved once: the
// Listen sockets to open, the session caps, and for each (Listen, client address) the
// ListenSettings a session runs with (Peer enable = false among them), following Momentum's inbound
// fallback (Peer > Listen > ESMTP_Listener > global). Settings are cached per (Listen, client
// IP) because resolving walks the config tree; TLS contexts and password files are built once
// per distinct file set. Built on reload, then used on the loop thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/event/address.h"
#include "common/net/cidr.h"
#include "mta/server/inbound_context.h"

namespace ec::mta {

struct ListenSpec {
  std::string name;  // the Listen scope's name as written ("127.0.0.1:2525")
  event::SocketAddress address;
  int backlog = 500;
};

class InboundConfig {
 public:
  // Resolves every Listen (without a client address) so a broken certificate, password file or
  // CIDR is reported now, at start or reload, naming the option's file:line.
  static Result<std::shared_ptr<InboundConfig>> Build(std::shared_ptr<const config::Config> config,
                                                      std::string default_hostname);

  const std::vector<ListenSpec>& listens() const { return listens_; }
  const config::Config& config() const { return *config_; }

  // The settings for a client of `listen`; an error means the config cannot serve it (logged
  // by the caller, and the client gets 421).
  Result<std::shared_ptr<const ListenSettings>> SettingsFor(const std::string& listen,
                                                            const std::string& client_ip);
  // listener_sessions of `listen` (0 = unlimited) and service_sessions of the whole listener.
  size_t ListenerSessions(const std::string& listen) const;
  size_t ServiceSessions() const { return service_sessions_; }

 private:
  InboundConfig() = default;
  Result<std::shared_ptr<const ListenSettings>> Resolve(const std::string& listen,
                                                        const std::string& client_ip);
  Result<std::shared_ptr<const auth::PasswordFile>> Passwords(const std::string& path);

  std::shared_ptr<const config::Config> config_;
  std::string default_hostname_;
  std::vector<ListenSpec> listens_;
  std::map<std::string, size_t> listener_sessions_;
  size_t service_sessions_ = 0;

  std::unordered_map<std::string, std::shared_ptr<const ListenSettings>> cache_;
  std::map<std::string, std::shared_ptr<SSL_CTX>> tls_contexts_;
  std::map<std::string, std::shared_ptr<const auth::PasswordFile>> password_files_;
};

}  // namespace ec::mta
