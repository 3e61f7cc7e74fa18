// SmtpConnection: one inbound SMTP client. Owns the socket's bufferevent (wrapped in an
// OpenSSL filter after STARTTLS), the ServerSession protocol engine and the session's timers,
// and carries out what the session asks (SessionHooks): the TLS handshake, checking
// credentials, making a message durable in the spool before the 250.
//
// Lifetime: owned (shared_ptr) by its EsmtpListener; the spool's completion holds only a
// weak_ptr, so a client that vanishes while its message is being synced is harmless (the
// message is still stored; nobody is told). Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/event/address.h"
#include "common/event/handles.h"
#include "common/event/timer.h"
#include "mta/server/inbound_context.h"
#include "mta/smtp/session.h"

namespace ec::mta {

class SmtpConnection : public smtp::SessionHooks,
                       public std::enable_shared_from_this<SmtpConnection> {
 public:
  using ClosedCallback = std::function<void(SmtpConnection*)>;

  // Takes ownership of `fd` and sends the greeting. `on_closed` runs (from the loop, never
  // inside a call into this object) once the connection is finished.
  static std::shared_ptr<SmtpConnection> Start(InboundServices& services,
                                               std::shared_ptr<const ListenSettings> settings,
                                               int fd, const event::SocketAddress& peer,
                                               const event::SocketAddress& local,
                                               ClosedCallback on_closed);
  ~SmtpConnection() override;

  // A new config was loaded: the session says 421 at its next MAIL or RSET.
  void OnConfigReloaded();
  // Shutdown: an idle session gets 421 now; one whose message is being stored gets its 250
  // first. Either way the connection closes soon after.
  void BeginShutdown();

  const std::string& id() const { return id_; }

  // SessionHooks.
  void StartTls() override;
  smtp::AuthVerdict CheckCredentials(std::string_view user, std::string_view password) override;
  std::string NewQueueId() override;
  void StoreMessage(smtp::ReceivedMessage message) override;
  void OnRejected(std::string_view command, const smtp::Reply& reply) override;

 private:
  SmtpConnection(InboundServices& services, std::shared_ptr<const ListenSettings> settings,
                 const event::SocketAddress& peer, const event::SocketAddress& local,
                 ClosedCallback on_closed);

  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short events, void* arg);

  void HandleRead();
  void HandleEvent(short events);
  // Sends what the session produced; starts TLS or closes when the session asks.
  void Flush();
  void SwitchToTls();
  void OnStored(Result<spool::QueueId> result, smtp::ReceivedMessage message);
  void LogReceptions(const smtp::ReceivedMessage& message, const std::string& queue_id);
  void TouchIdle();
  bool OutputPending() const;
  // Sends what is queued, then closes (bounded wait).
  void CloseWhenFlushed();
  void Close();

  InboundServices& services_;
  const std::shared_ptr<const ListenSettings> settings_;
  const event::SocketAddress peer_, local_;
  ClosedCallback on_closed_;
  std::string id_;

  event::BufferEventPtr bev_;
  std::unique_ptr<smtp::ServerSession> session_;
  event::Timer idle_timer_, total_timer_, drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::string pending_queue_id_;  // assigned by NewQueueId for the message being received
  bool tls_requested_ = false;
  bool closing_ = false;       // flush the output, then close
  bool closed_ = false;
  bool shutting_down_ = false;
  bool counted_ = true;        // still in connections_current
};

}  // namespace ec::mta
