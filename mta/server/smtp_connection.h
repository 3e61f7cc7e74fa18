// SmtpConnection: one inbound SMTP client. Owns the socket's bufferevent (wrapped in an
// OpenSSL filter after STARTTLS), the ServerSession protocol engine and the session's timers,
// and carries out what the session asks (SessionHooks): the TLS handshake, checking
// credentials (on the PasswordVerifier's thread, after the per-address AuthFailureLimiter),
// receiving a body into a spool IncomingBody as it arrives, making the message durable in the
// spool before the 250.
//
// Bounded memory: the body streams to the spool (past a small in-memory head), and the client
// is not read while more than kOutputHighWater of our replies wait unsent (it pipelines but
// does not read); reading resumes once they drained to kOutputLowWater. So neither the input
// nor the output buffers grow with what a client sends.
//
// Lifetime: owned (shared_ptr) by its EsmtpListener; the spool's and the password check's
// completions hold only a weak_ptr, so a client that vanishes while its message is being
// synced or its password checked is harmless (the message is still stored; nobody is told).
// Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/event/address.h"
#include "common/event/handles.h"
#include "common/event/timer.h"
#include "mta/server/direct_read.h"
#include "mta/server/inbound_context.h"
#include "mta/smtp/session.h"

namespace ec::mta {

class SmtpConnection : public smtp::SessionHooks,
                       public std::enable_shared_from_this<SmtpConnection> {
 public:
  using ClosedCallback = std::function<void(SmtpConnection*)>;

  // Our unsent output above which the client is not read, and at or below which reading
  // resumes. Under TLS the socket below the filter holds at most kTlsSocketHighWater more.
  static constexpr size_t kOutputHighWater = 64 << 10;
  static constexpr size_t kOutputLowWater = 16 << 10;
  static constexpr size_t kTlsSocketHighWater = 32 << 10;
  // At most this much is read from the socket at once.
  static constexpr size_t kMaxSingleRead = 128 << 10;

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
  smtp::BodySink* OpenBody() override;
  void StoreMessage(smtp::ReceivedMessage message) override;
  std::optional<smtp::Reply> AdmitTransaction() override;
  void OnRejected(std::string_view command, const smtp::Reply& reply) override;

 private:
  SmtpConnection(InboundServices& services, std::shared_ptr<const ListenSettings> settings,
                 const event::SocketAddress& peer, const event::SocketAddress& local,
                 ClosedCallback on_closed);

  // The session's BodySink: the spool's IncomingBody of the message being received.
  class SpoolBodySink : public smtp::BodySink {
   public:
    void Reset(std::unique_ptr<spool::IncomingBody> body) { body_ = std::move(body); }
    void Append(std::string_view bytes) override {
      if (body_) body_->Append(bytes);
    }
    void Discard() override { body_.reset(); }  // frees its memory and temporary file now
    std::unique_ptr<spool::IncomingBody> Take() { return std::move(body_); }

   private:
    std::unique_ptr<spool::IncomingBody> body_;
  };

  static void OnRead(bufferevent* bev, void* arg);
  static void OnWrite(bufferevent* bev, void* arg);
  static void OnEvent(bufferevent* bev, short events, void* arg);

  void HandleRead();
  // How much the DirectReader may read now: up to kMaxSingleRead buffered in all.
  size_t ReadRoom() const;
  // Arms or disarms reading: the DirectReader's event on a plain socket, the TLS filter's.
  void SetReading(bool on);
  void HandleWrite();
  void HandleEvent(short events);
  // Reads again (and processes input already buffered) unless the session waits, the client
  // has too much of our output unread, or the connection is ending.
  void ResumeReading();
  // Stops reading while more than kOutputHighWater of our output waits; true if so.
  bool OutputBacklogged();
  // Sends what the session produced; starts TLS or closes when the session asks.
  void Flush();
  void SwitchToTls();
  void OnStored(const Result<spool::QueueId>& result, const smtp::ReceivedMessage& message);
  // The auth::PasswordVerifier's answer, on the loop thread.
  void OnCredentialsChecked(const std::string& user, bool ok);
  void LogReceptions(const smtp::ReceivedMessage& message, const std::string& queue_id);
  void TouchIdle();
  bool OutputPending() const;
  // Bytes of our output still queued in our own (top) bufferevent.
  size_t QueuedOutput() const;
  // Sends what is queued, then closes (bounded wait).
  void CloseWhenFlushed();
  void Close();

  InboundServices& services_;
  const std::shared_ptr<const ListenSettings> settings_;
  const event::SocketAddress peer_, local_;
  ClosedCallback on_closed_;
  std::string id_;

  event::BufferEventPtr bev_;
  std::unique_ptr<DirectReader> reader_;  // reads bev_ until STARTTLS; freed before bev_
  // The reader STARTTLS ended, disarmed: that happens inside the reader's own callback as a
  // rule, so it is freed with the connection rather than there.
  std::unique_ptr<DirectReader> retired_reader_;
  SpoolBodySink body_;  // before session_: the session borrows it
  std::unique_ptr<smtp::ServerSession> session_;
  event::Timer idle_timer_, total_timer_, drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::string pending_queue_id_;  // assigned by NewQueueId for the message being received
  bool tls_requested_ = false;
  bool closing_ = false;  // flush the output, then close
  bool closed_ = false;
  bool output_backlogged_ = false;  // not reading until our output drains
  bool shutting_down_ = false;
  bool counted_ = true;  // still in connections_current
};

}  // namespace ec::mta
