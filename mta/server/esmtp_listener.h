// EsmtpListener: the ESMTP_Listener of one ecmta: a listening socket per enabled Listen scope,
// admission at connect (Peer enable = false, listener_sessions, service_sessions,
// sessions_per_client_address), and the set of live SmtpConnections. A reload swaps in a new
// InboundConfig: sockets of Listen scopes that stayed are kept (no client sees a refused connect),
// new ones open, removed ones close, and every session in flight is told so it says 421 at its next
// MAIL or RSET. Owned by the daemon; loop thread only.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/event/listener.h"
#include "mta/server/inbound_config.h"
#include "mta/server/smtp_connection.h"

namespace ec::mta {

class EsmtpListener {
 public:
  explicit EsmtpListener(InboundServices& services) : services_(services) {}
  EsmtpListener(const EsmtpListener&) = delete;
  EsmtpListener& operator=(const EsmtpListener&) = delete;

  // Opens, keeps or closes sockets to match `config`; fails (changing nothing it cannot undo)
  // if a new socket cannot be bound.
  Status Apply(std::shared_ptr<InboundConfig> config);
  // DuraVIP: a Listen on one of the `managed` addresses runs only while its address is in
  // `held` (this node owns it). Opens and closes sockets to match at once.
  Status SetDuravips(std::set<std::string> managed, std::set<std::string> held);
  // DuraVIP addresses a reload adds: withheld by the Apply that follows until SetDuravips says
  // this node holds them (at start, SetDuravips before the first Apply does the same).
  void AddManagedDuravips(const std::vector<std::string>& addresses) {
    duravip_managed_.insert(addresses.begin(), addresses.end());
  }
  // Stops accepting and asks every session to finish (see SmtpConnection::BeginShutdown).
  void BeginShutdown();
  size_t connection_count() const { return connections_.size(); }
  // The bound address of each Listen (real ports after port 0), for logs and tests.
  std::map<std::string, std::string> BoundAddresses() const;

 private:
  // Opens, keeps or closes sockets to match `config` and the DuraVIPs held.
  Status OpenSockets(const InboundConfig& config);
  bool Withheld(const ListenSpec& spec) const;
  void Accept(const std::string& listen, int fd, const event::SocketAddress& peer);
  // A connection ended: drops it and its counts.
  void Forget(SmtpConnection* c, const std::string& listen, const std::string& ip);
  void Refuse(int fd, const event::SocketAddress& peer, const std::string& listen,
              const char* reply, const char* why);

  InboundServices& services_;
  std::shared_ptr<InboundConfig> config_;
  std::map<std::string, std::unique_ptr<event::Listener>> sockets_;  // by Listen name
  std::map<SmtpConnection*, std::shared_ptr<SmtpConnection>> connections_;
  std::map<std::string, size_t> per_listen_;   // live connections by Listen name
  std::map<std::string, size_t> per_address_;  // live connections by client IP (none: absent)
  bool shutting_down_ = false;
  std::set<std::string> duravip_managed_;
  std::set<std::string> duravip_held_;
};

}  // namespace ec::mta
