#include "common/control/session.h"

#include <unistd.h>

#include <exception>

#include "common/control/login.h"
#include "common/control/server.h"
#include "common/event/callback_guard.h"
#include "common/event/timer.h"
#include "common/log/logger.h"

namespace ec::control {
namespace {

// "60 s", or "200 ms" for the short timeouts tests use.
std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

Session::Session(Server* server, uint64_t id, Peer peer)
    : server_(server),
      id_(id),
      peer_(std::move(peer.name)),
      peer_host_(std::move(peer.host)),
      listener_(std::move(peer.listener)),
      address_(std::move(peer.address)),
      needs_login_(peer.needs_login),
      principal_(std::move(peer.principal)),
      framer_(server->options_.max_request_line) {}

Session::~Session() = default;

bool Session::Open(int fd) {
  bev_.reset(bufferevent_socket_new(server_->base_.get(), fd, BEV_OPT_CLOSE_ON_FREE));
  if (!bev_) {
    close(fd);
    EC_LOG(kError, "cannot set up console session").Field("peer", peer_);
    return false;
  }
  bufferevent_setcb(bev_.get(), &Session::OnRead, &Session::OnWrite, &Session::OnEvent, this);
  timeval idle = event::ToTimeval(server_->options_.idle_timeout);
  bufferevent_set_timeouts(bev_.get(), &idle, &idle);
  bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  EC_LOG(kDebug, "console session opened").Field("session", id_).Field("peer", peer_);
  return true;
}

void Session::OnRead(bufferevent* bev, void* arg) {
  std::shared_ptr<Session> self = static_cast<Session*>(arg)->shared_from_this();
  event::CallNoThrow("control session read", [&] {
    evbuffer* in = bufferevent_get_input(bev);
    std::string chunk(evbuffer_get_length(in), '\0');
    evbuffer_remove(in, chunk.data(), chunk.size());
    self->framer_.Append(chunk);
    self->ProcessInput();
  });
}

void Session::OnWrite(bufferevent*, void* arg) {
  std::shared_ptr<Session> self = static_cast<Session*>(arg)->shared_from_this();
  // Called once the output has drained.
  if (self->closing_) self->Close();
}

void Session::OnEvent(bufferevent*, short what, void* arg) {
  std::shared_ptr<Session> self = static_cast<Session*>(arg)->shared_from_this();
  event::CallNoThrow("control session event", [&] {
    if (what & BEV_EVENT_TIMEOUT) {
      if ((what & BEV_EVENT_READING) && !self->closing_) {
        EC_LOG(kInfo, "console session idle; closing").Field("session", self->id_);
        self->Write({false, "idle timeout (" +
                                FormatDuration(self->server_->options_.idle_timeout) +
                                "); closing the session"});
        self->CloseAfterWrite();
      } else {
        self->Close();  // the client stopped reading
      }
      return;
    }
    if (what & BEV_EVENT_EOF) {
      // A batch client may half-close after its last request: answer what is buffered.
      self->eof_ = true;
      self->ProcessInput();
      return;
    }
    self->Close();  // BEV_EVENT_ERROR
  });
}

void Session::ProcessInput() {
  processing_ = true;
  std::string line;
  while (!busy_ && !closing_) {
    RequestFramer::Next next = framer_.Pop(&line);
    if (next == RequestFramer::Next::kNeedMore) break;
    if (next == RequestFramer::Next::kTooLong) {
      EC_LOG(kWarn, "console request too long; closing").Field("session", id_);
      Write({false, "request line longer than " +
                        std::to_string(server_->options_.max_request_line) +
                        " bytes; closing the session"});
      CloseAfterWrite();
      break;
    }
    if (SplitWords(line).empty()) continue;  // blank lines get no response
    Dispatch(line);
  }
  processing_ = false;
  if (busy_ || closing_) return;
  if (eof_) {
    CloseAfterWrite();
  } else {
    bufferevent_enable(bev_.get(), EV_READ);
  }
}

void Session::Dispatch(const std::string& line) {
  // Before the registry (and its command log line): a login line carries a password.
  if (IsLoginLine(line)) {
    Login(line);
    return;
  }
  std::optional<CommandRegistry::Match> match = server_->commands_.Find(line);
  if (needs_login_ && principal_.empty() && !(match && match->request.command == "quit")) {
    EC_LOG(kInfo, "console command before login refused")
        .Field("session", id_)
        .Field("peer", peer_);
    if (match) Account(AccountingEvent::Kind::kAuthorization, "", false, match->request.command);
    Write({false, "not logged in: send \"login <user> <password>\" first"});
    return;
  }
  if (!match) {
    std::string word(SplitWords(line).front());
    EC_LOG(kInfo, "unknown console command").Field("session", id_).Field("line", line);
    Write({false, "unknown command \"" + word + "\"; \"help\" lists the commands"});
    return;
  }
  // Every session that got here may run every command (there are no console roles).
  if (match->request.command != "quit") {
    Account(AccountingEvent::Kind::kAuthorization, principal_, true, match->request.command);
  }
  // An operator's command is worth a line; a machine's polling (log shipping) is not.
  auto level = server_->options_.log_commands ? log::Level::kInfo : log::Level::kDebug;
  if (log::Logger::Global().Enabled(level)) {
    log::LogLine(log::Logger::Global(), level, "console command")
        .Field("session", id_)
        .Field("peer", peer_)
        .Field("principal", principal_)
        .Field("command", line);
  }
  busy_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
  quit_after_reply_ = match->request.command == "quit";
  match->request.peer = peer_;
  match->request.principal = principal_;

  std::weak_ptr<Session> weak = weak_from_this();
  event::EventBase* base = &server_->base_;
  Reply reply([weak, base](Response response) {
    auto deliver = [weak, response = std::move(response)]() mutable {
      if (std::shared_ptr<Session> session = weak.lock()) session->Deliver(std::move(response));
    };
    if (base->InLoopThread()) {
      deliver();
    } else {
      base->RunInLoop(std::move(deliver));
    }
  });
  try {
    (*match->handler)(match->request, reply);
  } catch (const std::exception& e) {
    reply.Error(std::string("internal error: ") + e.what());
  } catch (...) {
    reply.Error("internal error: unknown exception");
  }
}

void Session::Login(std::string_view line) {
  if (!needs_login_ || !principal_.empty()) {
    Write({false, "already authenticated as " + principal_});
    return;
  }
  Result<LoginRequest> login = ParseLogin(line);
  if (!login.ok()) {
    Write({false, login.status().message()});
    return;
  }
  const ServerOptions& options = server_->options_;
  if (server_->login_failures_.Blocked(peer_host_, auth::FailureLimiter::Clock::now())) {
    EC_LOG(kWarn, "console login refused: too many failures from this address")
        .Field("session", id_)
        .Field("peer", peer_)
        .Field("user", login->user);
    Account(AccountingEvent::Kind::kAuthentication, login->user, false);
    Write({false, "too many failed logins from " + peer_host_ + "; try again later"});
    CloseAfterWrite();
    return;
  }
  busy_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
  std::weak_ptr<Session> weak = weak_from_this();
  std::string user = login->user;
  bool queued =
      server_->verifier_.Submit(&server_->base_, options.tcp_users, std::move(login->user),
                                std::move(login->password), [weak, user](bool ok) {
                                  if (std::shared_ptr<Session> self = weak.lock())
                                    self->OnLoginChecked(user, ok);
                                });
  if (!queued) Deliver({false, "the server is busy checking passwords; try again"});
}

void Session::OnLoginChecked(const std::string& user, bool ok) {
  if (closing_ || !busy_) return;
  Account(AccountingEvent::Kind::kAuthentication, user, ok);
  if (ok) {
    principal_ = "user:" + user;
    EC_LOG(kInfo, "console login").Field("session", id_).Field("peer", peer_).Field("user", user);
    Deliver({true, "logged in as " + user});
    return;
  }
  ++login_failures_;
  server_->login_failures_.Failed(peer_host_, auth::FailureLimiter::Clock::now());
  const ServerOptions& options = server_->options_;
  const bool last = login_failures_ >= options.login_failures_per_session;
  EC_LOG(kWarn, "console login failed")
      .Field("session", id_)
      .Field("peer", peer_)
      .Field("user", user)
      .Field("failures", login_failures_);
  // The delay slows guessing; reading stays paused (busy_) until the answer goes out.
  login_delay_ = std::make_unique<event::Timer>(server_->base_, [this, last] {
    std::shared_ptr<Session> self = shared_from_this();  // Deliver may close the session
    quit_after_reply_ = last;
    Deliver(
        {false, last ? "login failed; too many failures, closing the session" : "login failed"});
  });
  login_delay_->Start(options.login_failure_delay);
}

void Session::Account(AccountingEvent::Kind kind, const std::string& user, bool allowed,
                      const std::string& command) {
  const AccountingFn& report = server_->options_.on_accounting;
  if (!report) return;
  // The acctlog names the user as it logged in ("user:alice" is the principal of alice).
  constexpr std::string_view kUserPrefix = "user:";
  std::string name = user.starts_with(kUserPrefix) ? user.substr(kUserPrefix.size()) : user;
  report({.kind = kind,
          .listener = listener_,
          .peer = address_,
          .user = std::move(name),
          .allowed = allowed,
          .command = command});
}

void Session::Deliver(Response response) {
  if (closing_ || !busy_) return;
  Write(response);
  busy_ = false;
  if (quit_after_reply_) {
    CloseAfterWrite();
    return;
  }
  if (!processing_) ProcessInput();
}

void Session::Write(const Response& response) {
  std::string frame = EncodeResponse(response);
  bufferevent_write(bev_.get(), frame.data(), frame.size());
}

void Session::CloseAfterWrite() {
  closing_ = true;
  bufferevent_disable(bev_.get(), EV_READ);
  if (evbuffer_get_length(bufferevent_get_output(bev_.get())) == 0) Close();
}

void Session::Close() {
  EC_LOG(kDebug, "console session closed").Field("session", id_);
  // The caller holds a shared_ptr, so this object outlives the call.
  server_->Remove(this);
}

}  // namespace ec::control
