#include "mta/server/smtp_connection.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <sys/uio.h>

#include <cstdio>
#include <ctime>

#include "common/log/logger.h"
#include "common/tls/tls_context.h"
#include "mta/logs/log_records.h"
#include "mta/server/eager_write.h"

namespace ec::mta {
namespace {

// Momentum-style connection id: the loop's counter as 16 hex digits.
std::string ConnectionId(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "C%015llX", static_cast<unsigned long long>(n));
  return buf;
}

void SplitAddress(const std::string& address, std::string* local, std::string* domain) {
  size_t at = address.rfind('@');
  if (at == std::string::npos) {
    *local = address;
    domain->clear();
    return;
  }
  *local = address.substr(0, at);
  *domain = address.substr(at + 1);
}

spool::BodyType ToSpoolBody(smtp::BodyType t) {
  switch (t) {
    case smtp::BodyType::k7Bit:
      return spool::BodyType::k7Bit;
    case smtp::BodyType::k8BitMime:
      return spool::BodyType::k8BitMime;
    case smtp::BodyType::kBinaryMime:
      return spool::BodyType::kBinaryMime;
  }
  return spool::BodyType::k7Bit;
}

// Envelope flags the SMTP side keeps in the spool.
constexpr uint32_t kFlagSmtpUtf8 = 1;

}  // namespace

std::shared_ptr<SmtpConnection> SmtpConnection::Start(
    InboundServices& services, std::shared_ptr<const ListenSettings> settings, int fd,
    const event::SocketAddress& peer, const event::SocketAddress& local, ClosedCallback on_closed) {
  std::shared_ptr<SmtpConnection> conn(
      new SmtpConnection(services, std::move(settings), peer, local, std::move(on_closed)));
  conn->bev_.reset(bufferevent_socket_new(services.base->get(), fd, BEV_OPT_CLOSE_ON_FREE));
  if (!conn->bev_) {
    ::close(fd);
    conn->closed_ = true;
    return conn;
  }
  bufferevent_setcb(conn->bev_.get(), &OnRead, &OnWrite, &OnEvent, conn.get());
  // The write callback comes when our output drained to the low mark (resume reading).
  bufferevent_setwatermark(conn->bev_.get(), EV_WRITE, kOutputLowWater, 0);
  // The plain socket is read by a DirectReader (large reads, no FIONREAD); the bufferevent's
  // own read event stays off until STARTTLS. Writing is enabled from creation; enabling it
  // again here would arm the write event (two epoll_ctl calls per connection) for the
  // greeting, which EagerWrite sends at once anyway.
  bufferevent_disable(conn->bev_.get(), EV_READ);
  SmtpConnection* c = conn.get();
  conn->reader_ = std::make_unique<DirectReader>(
      conn->bev_.get(), DirectReader::Callbacks{.room = [c] { return c->ReadRoom(); },
                                                .on_read = [c] { c->HandleRead(); },
                                                .on_event = [c](short e) { c->HandleEvent(e); }});
  conn->reader_->Enable();

  smtp::ConnectionInfo info;
  info.client_ip = peer.host();
  info.client_port = peer.port();
  conn->session_ =
      std::make_unique<smtp::ServerSession>(conn->settings_->policy, conn.get(), std::move(info));
  if (conn->settings_->total_timeout.count() > 0) {
    conn->total_timer_.Start(conn->settings_->total_timeout);
  }
  conn->TouchIdle();
  conn->Flush();
  return conn;
}

SmtpConnection::SmtpConnection(InboundServices& services,
                               std::shared_ptr<const ListenSettings> settings,
                               const event::SocketAddress& peer, const event::SocketAddress& local,
                               ClosedCallback on_closed)
    : services_(services),
      settings_(std::move(settings)),
      peer_(peer),
      local_(local),
      on_closed_(std::move(on_closed)),
      id_(ConnectionId(services.next_connection.fetch_add(1))),
      idle_timer_(*services.base,
                  [this] {
                    session_->OnIdleTimeout();
                    Flush();
                  }),
      total_timer_(*services.base,
                   [this] {
                     session_->OnTotalTimeout();
                     Flush();
                   }),
      drain_timer_(*services.base, [this] {
        if (!OutputPending() || std::chrono::steady_clock::now() > drain_deadline_) Close();
      }) {
  services_.stats->connections_total++;
  services_.stats->connections_current++;
}

SmtpConnection::~SmtpConnection() {
  if (counted_) services_.stats->connections_current--;
}

void SmtpConnection::OnRead(bufferevent*, void* arg) {
  static_cast<SmtpConnection*>(arg)->HandleRead();
}

void SmtpConnection::OnWrite(bufferevent*, void* arg) {
  static_cast<SmtpConnection*>(arg)->HandleWrite();
}

void SmtpConnection::HandleWrite() {
  if (closed_) return;
  // The output buffer drained (to the low mark): a closing connection may go now; one that
  // stopped reading because the client did not read its replies reads again.
  if (closing_) {
    if (!OutputPending()) Close();
    return;
  }
  if (output_backlogged_ && QueuedOutput() <= kOutputLowWater) {
    output_backlogged_ = false;
    ResumeReading();
  }
}

size_t SmtpConnection::QueuedOutput() const {
  return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_.get())) : 0;
}

bool SmtpConnection::OutputBacklogged() {
  if (!output_backlogged_ && QueuedOutput() > kOutputHighWater) {
    output_backlogged_ = true;
    SetReading(false);
  }
  return output_backlogged_;
}

void SmtpConnection::ResumeReading() {
  if (closed_ || closing_ || tls_requested_ || output_backlogged_ || !session_->WantsRead()) {
    return;
  }
  SetReading(true);
  // Input may already wait in our buffer (pipelined commands, a command sent with the TLS
  // Finished): no further read event would come for it.
  if (evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0) HandleRead();
}

bool SmtpConnection::OutputPending() const {
  if (!bev_) return false;
  if (evbuffer_get_length(bufferevent_get_output(bev_.get())) > 0) return true;
  // Under TLS our filter hands encrypted bytes to the socket bufferevent below it; they are
  // not sent until that one drains too.
  bufferevent* under = bufferevent_get_underlying(bev_.get());
  return under != nullptr && evbuffer_get_length(bufferevent_get_output(under)) > 0;
}

void SmtpConnection::SetReading(bool on) {
  if (reader_) {
    on ? reader_->Enable() : reader_->Disable();
  } else if (on) {
    bufferevent_enable(bev_.get(), EV_READ);
  } else {
    bufferevent_disable(bev_.get(), EV_READ);
  }
}

void SmtpConnection::CloseWhenFlushed() {
  closing_ = true;
  SetReading(false);
  if (!OutputPending()) {
    Close();
    return;
  }
  // The write callback fires when our layer drains, not the socket below a TLS filter: poll,
  // bounded, so a client that stops reading cannot keep us forever.
  drain_deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  drain_timer_.StartRepeating(std::chrono::milliseconds(20));
}

void SmtpConnection::OnEvent(bufferevent*, short events, void* arg) {
  static_cast<SmtpConnection*>(arg)->HandleEvent(events);
}

size_t SmtpConnection::ReadRoom() const {
  // While the session waits (storing a message, checking a password) the socket is still read
  // up to kMaxSingleRead, so the event stays armed around each message (disarming and re-arming
  // it cost two epoll_ctl calls a message); at 0 the reader disarms until ResumeReading.
  const size_t buffered = evbuffer_get_length(bufferevent_get_input(bev_.get()));
  return buffered >= kMaxSingleRead ? 0 : kMaxSingleRead - buffered;
}

void SmtpConnection::HandleRead() {
  if (closed_ || closing_) return;
  evbuffer* input = bufferevent_get_input(bev_.get());
  TouchIdle();
  // Feed the session chunk by chunk without copying, replies going out after each chunk. It
  // stops consuming on its own when it starts storing a message or negotiating TLS (it
  // buffers the rest of that chunk, or after STARTTLS discards it); what follows stays in our
  // buffer. A client that does not read its replies is not read either (OutputBacklogged).
  while (evbuffer_get_length(input) > 0 && !closing_ && !tls_requested_ && session_->WantsRead() &&
         !OutputBacklogged()) {
    evbuffer_iovec vec[8];
    int n = evbuffer_peek(input, -1, nullptr, vec, 8);
    size_t consumed = 0;
    for (int i = 0; i < n && i < 8; ++i) {
      session_->OnBytes(
          std::string_view(static_cast<const char*>(vec[i].iov_base), vec[i].iov_len));
      consumed += vec[i].iov_len;
      if (tls_requested_ || session_->WantsClose() || !session_->WantsRead()) break;
      if (session_->HasOutput()) Flush();
      if (QueuedOutput() > kOutputHighWater) break;
    }
    evbuffer_drain(input, consumed);
    Flush();
  }
  // Backpressure: while the session waits (storing, checking a password) a plain socket is read
  // only up to kMaxSingleRead (ReadRoom); a TLS filter is not read at all.
  if (!closed_ && !closing_ && !tls_requested_ && !session_->WantsRead() &&
      bufferevent_get_underlying(bev_.get()) != nullptr) {
    bufferevent_disable(bev_.get(), EV_READ);
  }
}

void SmtpConnection::HandleEvent(short events) {
  if (events & BEV_EVENT_CONNECTED) {
    // The TLS handshake finished.
    SSL* ssl = bufferevent_openssl_get_ssl(bev_.get());
    smtp::TlsInfo info;
    info.version = SSL_get_version(ssl);
    const char* cipher = SSL_get_cipher_name(ssl);
    info.cipher = cipher ? cipher : "";
    info.bits = SSL_get_cipher_bits(ssl, nullptr);
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char subject[256];
      X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
      info.peer_subject = subject;
      info.peer_verified = SSL_get_verify_result(ssl) == X509_V_OK;
      X509_free(cert);
    }
    tls_requested_ = false;
    session_->OnTlsEstablished(std::move(info));
    Flush();
    // A command sent in the same packet as the client's Finished (ecmta's own client does
    // that) was decrypted before this event, while reads were held for the handshake.
    ResumeReading();
    return;
  }
  if (events & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
    if (tls_requested_) {
      EC_LOG(kInfo, "TLS handshake failed")
          .Field("conn", id_)
          .Field("peer", peer_.ToString())
          .Field("error", tls::LastOpenSslError());
      session_->OnTlsFailed();
    }
    // The client went away (or the socket broke): nothing more can be said to it.
    Close();
  }
}

void SmtpConnection::Flush() {
  if (closed_) return;
  if (session_->HasOutput()) {
    std::string out = session_->TakeOutput();
    EagerWrite(bev_.get(), out);
  }
  if (tls_requested_ && !closing_) {
    SwitchToTls();
    return;
  }
  if (session_->WantsClose() && !closing_) CloseWhenFlushed();
}

void SmtpConnection::StartTls() {
  // Runs inside session_->OnBytes: the handshake starts once the 220 is on its way (Flush).
  tls_requested_ = true;
}

void SmtpConnection::SwitchToTls() {
  bufferevent* plain = bev_.get();
  // From here the TLS filter reads the socket bufferevent (which it enables for reading).
  if (reader_) reader_->Disable();
  retired_reader_ = std::move(reader_);
  // Anything the client sent behind STARTTLS before seeing our 220 is not TLS and must not be
  // read as commands either (RFC 3207, CVE-2011-0411): drop it.
  evbuffer* input = bufferevent_get_input(plain);
  evbuffer_drain(input, evbuffer_get_length(input));
  SSL* ssl = SSL_new(settings_->tls.get());
  if (ssl == nullptr) {
    tls_requested_ = false;
    session_->OnTlsFailed();
    Flush();
    return;
  }
  // The filter takes the plain bufferevent (our 220 is already in its output buffer, ahead of
  // the handshake) and frees it with itself.
  bufferevent* tls = bufferevent_openssl_filter_new(
      services_.base->get(), plain, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
  if (tls == nullptr) {
    SSL_free(ssl);
    tls_requested_ = false;
    session_->OnTlsFailed();
    Flush();
    return;
  }
  bev_.release();
  bev_.reset(tls);
  bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
  bufferevent_setcb(tls, &OnRead, &OnWrite, &OnEvent, this);
  // Encrypted output waits in the socket bufferevent only up to its high mark; the rest stays
  // in the filter's buffer, whose level (and write callback) the backlog check follows.
  bufferevent_setwatermark(plain, EV_WRITE, 0, kTlsSocketHighWater);
  bufferevent_setwatermark(tls, EV_WRITE, kOutputLowWater, 0);
  bufferevent_enable(tls, EV_READ | EV_WRITE);
}

smtp::AuthVerdict SmtpConnection::CheckCredentials(std::string_view user,
                                                   std::string_view password) {
  if (!settings_->passwords) return smtp::AuthVerdict::kTemporaryFailure;
  const std::string ip = peer_.host();
  const auto now = auth::FailureLimiter::Clock::now();
  if (services_.auth_failures.Blocked(ip, now)) {
    // Not checked at all: a throttled address learns nothing and costs no hash.
    EC_LOG(kWarn, "auth throttled")
        .Field("conn", id_)
        .Field("peer", peer_.ToString())
        .Field("user", user);
    return smtp::AuthVerdict::kTemporaryFailure;
  }
  std::weak_ptr<SmtpConnection> weak = weak_from_this();
  bool queued = services_.password_verifier.Submit(services_.base, settings_->passwords,
                                                   std::string(user), std::string(password),
                                                   [weak, user = std::string(user)](bool ok) {
                                                     if (auto self = weak.lock())
                                                       self->OnCredentialsChecked(user, ok);
                                                   });
  if (queued) return smtp::AuthVerdict::kPending;
  EC_LOG(kWarn, "auth queue full")
      .Field("conn", id_)
      .Field("peer", peer_.ToString())
      .Field("user", user);
  return smtp::AuthVerdict::kTemporaryFailure;
}

void SmtpConnection::OnCredentialsChecked(const std::string& user, bool ok) {
  if (closed_) return;
  if (!ok) services_.auth_failures.Failed(peer_.host(), auth::FailureLimiter::Clock::now());
  EC_LOG(kInfo, ok ? "auth accepted" : "auth rejected")
      .Field("conn", id_)
      .Field("peer", peer_.ToString())
      .Field("user", user);
  if (services_.logs) {
    services_.logs->Authentication({.time = std::time(nullptr),
                                    .listener = local_.ToString(),
                                    .peer = peer_.ToString(),
                                    .user = user,
                                    .accepted = ok});
  }
  session_->OnAuthChecked(ok ? smtp::AuthVerdict::kAccepted : smtp::AuthVerdict::kRejected);
  Flush();
  if (shutting_down_ && !closing_) {
    BeginShutdown();
    return;
  }
  ResumeReading();  // pipelined commands may already sit in our input buffer
}

std::string SmtpConnection::NewQueueId() {
  pending_queue_id_ = services_.spool->NewId().ToString();
  return pending_queue_id_;
}

smtp::BodySink* SmtpConnection::OpenBody() {
  body_.Reset(services_.spool->NewIncomingBody());
  return &body_;
}

void SmtpConnection::StoreMessage(smtp::ReceivedMessage message) {
  spool::Envelope env;
  const smtp::Envelope& in = message.envelope;
  env.mail_from = in.mail_from;
  env.rcpts.reserve(in.rcpts.size());
  for (size_t i = 0; i < in.rcpts.size(); ++i) {
    spool::Recipient r{.address = in.rcpts[i]};
    if (i < in.rcpt_dsn.size()) {  // DSN NOTIFY/ORCPT, kept as the client sent them
      r.orcpt = in.rcpt_dsn[i].orcpt;
      r.notify = in.rcpt_dsn[i].notify;
    }
    env.rcpts.push_back(std::move(r));
  }
  env.received_us =
      std::chrono::duration_cast<std::chrono::microseconds>(in.received_at.time_since_epoch())
          .count();
  env.client_ip = in.client_ip;
  env.helo = in.helo;
  env.auth_user = in.auth_user;
  env.body_type = ToSpoolBody(in.body_type);
  if (in.smtputf8) env.flags |= kFlagSmtpUtf8;
  env.dsn_envid = in.dsn_envid;
  env.dsn_ret = in.dsn_ret;
  env.binding = settings_->binding;
  env.binding_group = settings_->binding_group;

  std::unique_ptr<spool::IncomingBody> body = body_.Take();
  EC_CHECK(body != nullptr && body->size() == message.body_size);
  // The headers are small and stay in `message` for the logs; the body streamed in already.
  std::string headers = message.headers;

  auto id = spool::QueueId::Parse(in.queue_id.empty() ? pending_queue_id_ : in.queue_id);
  std::weak_ptr<SmtpConnection> weak = weak_from_this();
  event::EventBase* base = services_.base;
  auto on_queued = services_.on_queued;
  auto done = [weak, base, on_queued, binding = env.binding, group = env.binding_group,
               message = std::move(message)](Result<spool::QueueId> r) mutable {
    // The spool calls back on its committer thread unless told to post; hop to our loop.
    base->RunInLoop([weak, on_queued, binding, group, r = std::move(r),
                     message = std::move(message)]() mutable {
      // The client's 250 goes first: handing the message to the scheduler (which reads it and
      // starts sending it) is not on the client's way. Nothing served by this loop can see
      // the two in the other order.
      if (auto self = weak.lock()) self->OnStored(r, message);
      // Stored mail is delivered even if its client has gone meanwhile.
      if (r.ok() && on_queued) on_queued(*r, message.envelope.rcpts, binding, group);
    });
  };
  services_.spool->Submit(id.value_or(spool::QueueId()), std::move(env), std::move(headers),
                          std::move(body), std::move(done));
}

void SmtpConnection::OnStored(const Result<spool::QueueId>& result,
                              const smtp::ReceivedMessage& message) {
  if (closed_) return;
  if (!result.ok()) {
    services_.stats->store_failures++;
    services_.stats->messages_rejected++;
    EC_LOG(kError, "message not stored").Field("conn", id_).Field("error", result.status());
    if (services_.logs) {
      services_.logs->Panic("spool write failed conn=" + id_ + ": " + result.status().ToString());
    }
    session_->OnMessageStoreFailed(result.status());
  } else {
    auto& stats = *services_.stats;
    stats.messages_received++;
    stats.recipients_received += message.envelope.rcpts.size();
    stats.bytes_received += message.size();
    LogReceptions(message, result->ToString());
    session_->OnMessageStored();
  }
  Flush();
  if (shutting_down_ && !closing_) {
    BeginShutdown();
    return;
  }
  ResumeReading();  // pipelined commands may already sit in our input buffer
}

void SmtpConnection::LogReceptions(const smtp::ReceivedMessage& message,
                                   const std::string& queue_id) {
  if (!services_.logs) return;
  ReceptionRecord r;
  r.time = std::chrono::system_clock::to_time_t(message.envelope.received_at);
  r.message_id = queue_id;
  r.connection_id = id_;
  SplitAddress(message.envelope.mail_from, &r.sender_localpart, &r.sender_domain);
  r.client_ip = message.envelope.client_ip;
  r.size = message.size();
  for (size_t i = 0; i < message.envelope.rcpts.size(); ++i) {
    r.batch_id = std::to_string(i);
    SplitAddress(message.envelope.rcpts[i], &r.rcpt_localpart, &r.rcpt_domain);
    services_.logs->Reception(r);
  }
}

std::optional<smtp::Reply> SmtpConnection::AdmitTransaction() {
  const std::string& name = settings_->shared_throttle;
  if (name.empty() || !services_.throttles || services_.throttles->TakeTransaction(name)) {
    return std::nullopt;
  }
  return smtp::Reply{451, "4.7.1",
                     "Error: shared throttle \"" + name +
                         "\" exceeded: too many messages, try again later"};
}

void SmtpConnection::OnRejected(std::string_view command, const smtp::Reply& reply) {
  if (command == "DATA" || command == "BDAT") services_.stats->messages_rejected++;
  if (!services_.logs) return;
  RejectionRecord r;
  r.time = std::time(nullptr);
  r.remote = peer_.ToString();
  r.local = local_.ToString();
  r.connection_id = id_;
  r.phase = std::string(command);
  r.code = reply.code;
  r.connection_context = {{"ehlo_domain", session_->helo()}};
  r.text = reply.text;
  services_.logs->Rejection(r);
}

void SmtpConnection::OnConfigReloaded() {
  if (!closed_) session_->OnConfigReloaded();
}

void SmtpConnection::BeginShutdown() {
  shutting_down_ = true;
  if (closed_ || closing_) return;
  // A message being stored keeps its connection until the spool answers (OnStored comes back
  // here); everyone else is told now.
  if (!session_->WantsRead() && !tls_requested_) return;
  static constexpr char k421[] = "421 4.3.2 Service shutting down, try again later\r\n";
  bufferevent_write(bev_.get(), k421, sizeof k421 - 1);
  CloseWhenFlushed();
}

void SmtpConnection::TouchIdle() {
  if (settings_->idle_timeout.count() > 0) idle_timer_.Start(settings_->idle_timeout);
}

void SmtpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  idle_timer_.Stop();
  total_timer_.Stop();
  drain_timer_.Stop();
  bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  if (reader_) reader_->Disable();
  if (counted_) {
    services_.stats->connections_current--;
    counted_ = false;
  }
  // Defer the owner's bookkeeping (which may destroy us) until we are off the stack.
  std::weak_ptr<SmtpConnection> weak = weak_from_this();
  services_.base->RunInLoop([weak] {
    if (auto self = weak.lock()) {
      self->reader_.reset();
      self->retired_reader_.reset();
      self->bev_.reset();
      if (self->on_closed_) self->on_closed_(self.get());
    }
  });
}

}  // namespace ec::mta
