#include "mta/outbound/smtp_client.h"

#include <event2/bufferevent_ssl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log/logger.h"
#include "common/tls/tls_context.h"
#include "mta/bounce/dsn.h"
#include "mta/server/eager_write.h"
#include "mta/smtp/command.h"
#include "mta/smtp/xtext.h"

namespace ec::outbound {
namespace {

constexpr size_t kMaxBufferedInput = 64 * 1024;
constexpr std::chrono::milliseconds kQuitTimeout{10000};

// An ORCPT's addr-type (RFC 3461 §4.2): an atom, RFC 5322 atext, as the listener takes it.
bool IsAddrType(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Stored xtext as it is; anything else (a decoded value) encoded.
std::string AsXtext(std::string_view s) {
  return smtp::IsXtext(s) ? std::string(s) : smtp::XtextEncode(s);
}

void NoteDropped(std::string* dropped, const std::string& what) {
  if (dropped == nullptr) return;
  if (!dropped->empty()) *dropped += ", ";
  *dropped += what;
}

ServerReply Synthesized(int code, std::string text) {
  ServerReply r;
  r.code = code;
  r.enhanced = code >= 500 ? "5.4.0" : "4.4.2";
  r.lines.push_back(std::move(text));
  return r;
}

// Sends `data` dot-stuffed and CRLF-terminated, then the end-of-data line, in one write where
// the socket takes it: the pieces point into `data` (never copied here), with a "." before every
// line that starts with one. Returns the bytes sent or queued.
uint64_t WriteBody(bufferevent* bev, const std::string& data) {
  static constexpr char kDot[] = ".", kCrlf[] = "\r\n", kEnd[] = ".\r\n";
  std::vector<struct iovec> pieces;
  auto add = [&](const char* p, size_t n) { pieces.push_back({const_cast<char*>(p), n}); };
  size_t start = 0;
  if (!data.empty() && data[0] == '.') add(kDot, 1);
  while (start < data.size()) {
    size_t nl = data.find("\n.", start);
    if (nl == std::string::npos) {
      add(data.data() + start, data.size() - start);
      break;
    }
    add(data.data() + start, nl + 1 - start);
    add(kDot, 1);
    start = nl + 1;
  }
  if (data.size() < 2 || data.compare(data.size() - 2, 2, "\r\n") != 0) add(kCrlf, 2);
  add(kEnd, 3);
  return mta::EagerWrite(bev, pieces);
}

}  // namespace

std::string DsnMailParameters(const spool::Envelope& envelope, std::string* dropped) {
  std::string out;
  if (envelope.dsn_ret == spool::DsnRet::kFull) out += " RET=FULL";
  if (envelope.dsn_ret == spool::DsnRet::kHeaders) out += " RET=HDRS";
  if (!envelope.dsn_envid.empty()) {
    // The listener's limits (mta/smtp/command.h): ENVID counted decoded, ORCPT as sent.
    std::string envid = AsXtext(envelope.dsn_envid);
    const size_t decoded = smtp::XtextDecode(envid).size();
    if (decoded <= smtp::kMaxEnvidLength) {
      out += " ENVID=" + envid;
    } else {
      NoteDropped(dropped, "ENVID (" + std::to_string(decoded) + " characters)");
    }
  }
  return out;
}

std::string DsnRcptParameters(const spool::Recipient& recipient, std::string* dropped) {
  std::string out;
  if (recipient.notify & spool::kNotifyNever) {
    out += " NOTIFY=NEVER";  // NEVER excludes the others (RFC 3461 §4.1)
  } else {
    std::string list;
    if (recipient.notify & spool::kNotifySuccess) list += ",SUCCESS";
    if (recipient.notify & spool::kNotifyFailure) list += ",FAILURE";
    if (recipient.notify & spool::kNotifyDelay) list += ",DELAY";
    if (!list.empty()) out += " NOTIFY=" + list.substr(1);
  }
  if (!recipient.orcpt.empty()) {
    const std::string_view stored = recipient.orcpt;
    const size_t semi = stored.find(';');
    std::string orcpt;
    if (semi != std::string_view::npos && IsAddrType(stored.substr(0, semi))) {
      orcpt = std::string(stored.substr(0, semi + 1)) + AsXtext(stored.substr(semi + 1));
    } else {
      orcpt = "rfc822;" + AsXtext(stored);  // no type given: an Internet address
    }
    if (orcpt.size() <= smtp::kMaxOrcptLength) {
      out += " ORCPT=" + orcpt;
    } else {
      NoteDropped(dropped, "ORCPT (" + std::to_string(orcpt.size()) + " characters)");
    }
  }
  return out;
}

SmtpClient::SmtpClient(event::EventBase& base, std::shared_ptr<const DomainPolicy> policy,
                       std::vector<event::SocketAddress> addresses, std::string tls_hostname,
                       Callbacks callbacks)
    : base_(base),
      policy_(std::move(policy)),
      addresses_(std::move(addresses)),
      tls_hostname_(std::move(tls_hostname)),
      cb_(std::move(callbacks)),
      timer_(base, [this] {
        switch (state_) {
          case State::kConnecting:
            last_error_ = "connect timed out";
            ConnectNext();
            return;
          case State::kIdle:
            Quit();
            return;
          case State::kQuit:
            Close(Status::Ok());
            return;
          default:
            Fail(CurrentStage(), "timed out waiting for the server at stage " +
                                     std::to_string(static_cast<int>(CurrentStage())));
        }
      }) {}

SmtpClient::~SmtpClient() { *alive_ = false; }

std::string SmtpClient::remote() const {
  if (addresses_.empty()) return "";
  size_t i = next_address_ == 0 ? 0 : next_address_ - 1;
  return addresses_[std::min(i, addresses_.size() - 1)].host();
}

void SmtpClient::Start() { ConnectNext(); }

void SmtpClient::ConnectNext() {
  reader_.reset();
  retired_reader_.reset();
  bev_.reset();
  address_lease_.reset();
  while (cb_.on_address && next_address_ < addresses_.size()) {
    address_lease_ = cb_.on_address(addresses_[next_address_]);
    if (address_lease_) break;
    skipped_full_ = true;
    ++next_address_;
  }
  if (next_address_ >= addresses_.size() && skipped_full_) {
    // Busy, not broken: the owner waits for a connection to one of them to close.
    addresses_full_ = true;
    failed_stage_ = Stage::kConnect;
    last_error_ = "every address is at its connection limit";
    Close(ResourceExhausted(last_error_));
    return;
  }
  if (next_address_ >= addresses_.size()) {
    std::string why = addresses_.empty() ? "no address to connect to"
                                         : "connection to " + remote() + " failed: " + last_error_;
    Fail(Stage::kConnect, why);
    return;
  }
  const event::SocketAddress& addr = addresses_[next_address_++];
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    last_error_ = std::string("socket: ") + std::strerror(errno);
    base_.RunInLoop([this, alive = alive_] {
      if (*alive) ConnectNext();
    });
    return;
  }
  if (!policy_->bind_address.empty()) {
    std::string b = policy_->bind_address;
    auto local = event::SocketAddress::ParseHostPort(
        b.find(':') != std::string::npos && b.front() != '[' ? "[" + b + "]:0" : b + ":0");
    if (local.ok() && local->family() == addr.family() &&
        ::bind(fd, local->get(), local->size()) != 0) {
      last_error_ = "bind " + b + ": " + std::strerror(errno);
    }
  }
  bev_.reset(bufferevent_socket_new(base_.get(), fd, BEV_OPT_CLOSE_ON_FREE));
  bufferevent_setcb(bev_.get(), &ReadCb, nullptr, &EventCb, this);
  state_ = State::kConnecting;
  Arm(policy_->timeouts.connect);
  if (bufferevent_socket_connect(bev_.get(), addr.get(), static_cast<int>(addr.size())) != 0) {
    last_error_ = std::strerror(errno);
    base_.RunInLoop([this, alive = alive_] {
      if (*alive && state_ == State::kConnecting) ConnectNext();
    });
  }
}

void SmtpClient::OnConnected() {
  state_ = State::kGreeting;
  // Replies are read by a DirectReader (no FIONREAD before each read) until STARTTLS.
  reader_ = std::make_unique<mta::DirectReader>(
      bev_.get(), mta::DirectReader::Callbacks{
                      .room = [] { return mta::DirectReader::kChunk; },
                      .on_read = [this] { OnRead(); },
                      .on_event = [this](short events) { OnEvent(events); }});
  reader_->Enable();
  Arm(policy_->timeouts.ehlo);
}

void SmtpClient::ReadCb(bufferevent*, void* arg) { static_cast<SmtpClient*>(arg)->OnRead(); }

void SmtpClient::EventCb(bufferevent*, short what, void* arg) {
  static_cast<SmtpClient*>(arg)->OnEvent(what);
}

void SmtpClient::OnEvent(short what) {
  if (what & BEV_EVENT_CONNECTED) {
    if (state_ == State::kConnecting) {
      OnConnected();
    } else if (state_ == State::kTlsHandshake) {
      tls_active_ = true;
      EC_LOG(kInfo, "outbound TLS established")
          .Field("domain", policy_->domain)
          .Field("remote", remote())
          .Field("tls", tls::DescribeSession(bufferevent_openssl_get_ssl(bev_.get())));
      state_ = State::kEhlo;
      SendLine("EHLO " + policy_->ehlo_hostname);
      Arm(policy_->timeouts.ehlo);
    }
    return;
  }
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
    std::string why = (what & BEV_EVENT_EOF) ? "connection closed by the server"
                                             : std::string(std::strerror(errno));
    if (state_ == State::kTlsHandshake) why = "TLS handshake failed: " + tls::LastOpenSslError();
    if (state_ == State::kConnecting) {
      last_error_ = why;
      ConnectNext();
    } else if (state_ == State::kQuit) {
      Close(Status::Ok());
    } else {
      Fail(CurrentStage(), why + " (" + remote() + ")");
    }
  }
}

void SmtpClient::OnRead() {
  evbuffer* in = bufferevent_get_input(bev_.get());
  size_t n = evbuffer_get_length(in);
  size_t old = in_.size();
  in_.resize(old + n);
  evbuffer_remove(in, in_.data() + old, n);
  while (state_ != State::kClosed && !in_.empty()) {
    ServerReply reply;
    size_t consumed = 0;
    std::string error;
    ReplyParse r = ParseReply(in_, &reply, &consumed, &error);
    if (r == ReplyParse::kNeedMore) {
      if (in_.size() > kMaxBufferedInput) Fail(CurrentStage(), "reply too long");
      return;
    }
    if (r == ReplyParse::kError) {
      Fail(CurrentStage(), "protocol error from " + remote() + ": " + error);
      return;
    }
    in_.erase(0, consumed);
    HandleReply(std::move(reply));
  }
}

void SmtpClient::SendLine(const std::string& line) {
  mta::EagerWrite(bev_.get(), line + "\r\n");
}

void SmtpClient::Arm(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    timer_.Start(timeout);
  } else {
    timer_.Stop();
  }
}

Stage SmtpClient::CurrentStage() const {
  switch (state_) {
    case State::kConnecting: return Stage::kConnect;
    case State::kGreeting: return Stage::kGreeting;
    case State::kEhlo:
    case State::kHelo: return Stage::kEhlo;
    case State::kStartTls:
    case State::kTlsHandshake: return Stage::kStartTls;
    case State::kRset: return Stage::kRset;
    case State::kQuit: return Stage::kQuit;
    case State::kBusy:
      if (!expects_.empty()) {
        switch (expects_.front().first) {
          case Expect::kMail: return Stage::kMailFrom;
          case Expect::kRcpt: return Stage::kRcptTo;
          case Expect::kData: return Stage::kData;
          case Expect::kBody: return Stage::kBody;
          case Expect::kRset: return Stage::kRset;
        }
      }
      return Stage::kMailFrom;
    default: return Stage::kConnect;
  }
}

void SmtpClient::HandleReply(ServerReply reply) {
  switch (state_) {
    case State::kGreeting:
      if (reply.code / 100 != 2) {
        Fail(Stage::kGreeting, "greeting: " + reply.ToString(), reply.code >= 500 ? 554 : 421);
        return;
      }
      state_ = State::kEhlo;
      SendLine("EHLO " + policy_->ehlo_hostname);
      Arm(policy_->timeouts.ehlo);
      return;
    case State::kEhlo:
      if (!reply.positive()) {
        if (tls_active_) {
          Fail(Stage::kEhlo, "EHLO after STARTTLS: " + reply.ToString());
          return;
        }
        state_ = State::kHelo;
        SendLine("HELO " + policy_->ehlo_hostname);
        Arm(policy_->timeouts.ehlo);
        return;
      }
      ext_ = ParseExtensions(reply);
      if (!tls_active_ && policy_->tls != TlsMode::kNo && policy_->tls_context) {
        if (ext_.starttls) {
          state_ = State::kStartTls;
          SendLine("STARTTLS");
          Arm(policy_->timeouts.ehlo);
          return;
        }
        if (policy_->tls == TlsMode::kRequired) {
          Fail(Stage::kStartTls, "TLS required but " + remote() + " does not offer STARTTLS");
          return;
        }
      }
      BecomeReady();
      return;
    case State::kHelo:
      if (!reply.positive()) {
        Fail(Stage::kEhlo, "HELO: " + reply.ToString());
        return;
      }
      ext_ = Extensions{};
      if (policy_->tls == TlsMode::kRequired) {
        Fail(Stage::kStartTls, "TLS required but " + remote() + " does not speak ESMTP");
        return;
      }
      BecomeReady();
      return;
    case State::kStartTls: {
      if (reply.code != 220) {
        if (policy_->tls == TlsMode::kRequired) {
          Fail(Stage::kStartTls, "STARTTLS refused: " + reply.ToString());
          return;
        }
        BecomeReady();  // opportunistic: carry on in clear
        return;
      }
      SSL* ssl = SSL_new(policy_->tls_context.get());
      if (ssl == nullptr) {
        Fail(Stage::kStartTls, "SSL_new: " + tls::LastOpenSslError());
        return;
      }
      if (!tls_hostname_.empty() && !IsIpLiteral(tls_hostname_)) {
        SSL_set_tlsext_host_name(ssl, tls_hostname_.c_str());
      }
      if (policy_->tls_verify_host && !tls_hostname_.empty()) {
        SSL_set1_host(ssl, tls_hostname_.c_str());
      }
      // The TLS filter reads the socket bufferevent from here.
      if (reader_) reader_->Disable();
      retired_reader_ = std::move(reader_);
      bufferevent* under = bev_.release();
      bufferevent* filtered = bufferevent_openssl_filter_new(
          base_.get(), under, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
      if (filtered == nullptr) {
        SSL_free(ssl);
        bufferevent_free(under);
        Fail(Stage::kStartTls, "cannot start TLS");
        return;
      }
      bev_.reset(filtered);
      bufferevent_setcb(bev_.get(), &ReadCb, nullptr, &EventCb, this);
      bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
      state_ = State::kTlsHandshake;
      in_.clear();  // nothing sent before the handshake may be trusted after it
      Arm(policy_->timeouts.ehlo);
      return;
    }
    case State::kBusy:
    case State::kRset:
      HandleTransactionReply(std::move(reply));
      return;
    case State::kQuit:
      Close(Status::Ok());
      return;
    default:
      // Unsolicited (a 421 while idle, usually): the server is going away.
      Fail(CurrentStage(), "unexpected reply from " + remote() + ": " + reply.ToString());
      return;
  }
}

void SmtpClient::BecomeReady() {
  was_ready_ = true;
  state_ = State::kReady;
  timer_.Stop();
  if (cb_.on_ready) cb_.on_ready(this);
}

void SmtpClient::Idle() {
  if (state_ != State::kReady) return;
  state_ = State::kIdle;
  Arm(policy_->timeouts.idle.count() > 0 ? policy_->timeouts.idle : std::chrono::milliseconds(1));
}

void SmtpClient::Quit() {
  if (state_ == State::kClosed || state_ == State::kQuit) return;
  if (state_ != State::kReady && state_ != State::kIdle) {
    Fail(CurrentStage(), "connection abandoned");
    return;
  }
  state_ = State::kQuit;
  SendLine("QUIT");
  Arm(kQuitTimeout);
}

void SmtpClient::Send(Transaction tx) {
  EC_CHECK(state_ == State::kReady || state_ == State::kIdle);
  state_ = State::kBusy;
  has_tx_ = true;
  tx_ = std::move(tx);
  result_ = TransactionResult{};
  result_.rcpt.assign(tx_.rcpts.size(), ServerReply{});
  result_.stage.assign(tx_.rcpts.size(), Stage::kRcptTo);
  accepted_.assign(tx_.rcpts.size(), false);
  mail_ok_ = false;
  commands_.clear();
  expects_.clear();
  next_command_ = 0;
  result_.dsn_supported = ext_.dsn;
  // DSN parameters only to a server that offers DSN (RFC 3461: a relay to one that does
  // not drops them, and the owner may report "relayed").
  const spool::Envelope* env = ext_.dsn && tx_.message ? &tx_.message->envelope : nullptr;
  std::string dropped;
  std::string mail = "MAIL FROM:<" + tx_.mail_from + ">";
  if (tx_.eightbit && ext_.eightbitmime) mail += " BODY=8BITMIME";
  if (ext_.size > 0) mail += " SIZE=" + std::to_string(tx_.data.size());
  if (env) mail += DsnMailParameters(*env, &dropped);
  commands_.push_back(std::move(mail));
  for (size_t k = 0; k < tx_.rcpts.size(); ++k) {
    std::string rcpt = "RCPT TO:<" + tx_.rcpts[k] + ">";
    if (env && k < tx_.rcpt_index.size() && tx_.rcpt_index[k] < env->rcpts.size()) {
      rcpt += DsnRcptParameters(env->rcpts[tx_.rcpt_index[k]], &dropped);
    }
    commands_.push_back(std::move(rcpt));
  }
  commands_.push_back("DATA");
  if (!dropped.empty()) {
    EC_LOG(kWarn, "DSN parameters too long, not passed on")
        .Field("id", tx_.id.ToString())
        .Field("dropped", dropped);
  }
  if (ext_.pipelining) {
    // The whole group in one write (RFC 2920 lets a client send it at once).
    std::string group;
    while (next_command_ < commands_.size()) SendNextCommand(&group);
    mta::EagerWrite(bev_.get(), group);
  } else {
    SendNextCommand();
  }
  Arm(policy_->timeouts.mailfrom);
}

void SmtpClient::SendNextCommand(std::string* group) {
  size_t i = next_command_++;
  if (group != nullptr) {
    group->append(commands_[i]).append("\r\n");
  } else {
    SendLine(commands_[i]);
  }
  if (i == 0) {
    expects_.emplace_back(Expect::kMail, 0);
  } else if (i == commands_.size() - 1) {
    expects_.emplace_back(Expect::kData, 0);
  } else {
    expects_.emplace_back(Expect::kRcpt, i - 1);
  }
}

void SmtpClient::SendBody() {
  result_.bytes_sent += WriteBody(bev_.get(), tx_.data);
  expects_.emplace_back(Expect::kBody, 0);
  Arm(policy_->timeouts.body);
}

void SmtpClient::HandleTransactionReply(ServerReply reply) {
  if (expects_.empty()) {
    Fail(CurrentStage(), "unexpected reply from " + remote() + ": " + reply.ToString());
    return;
  }
  auto [expect, index] = expects_.front();
  expects_.pop_front();
  bool stop = false;
  bool body_done = false;
  bool any_accepted = false;
  for (bool a : accepted_) any_accepted |= a;
  switch (expect) {
    case Expect::kRset:
      if (!reply.positive()) {
        Fail(Stage::kRset, "RSET: " + reply.ToString());
        return;
      }
      BecomeReady();
      return;
    case Expect::kMail:
      mail_ok_ = reply.positive();
      if (!mail_ok_) {
        for (size_t i = 0; i < result_.rcpt.size(); ++i) {
          result_.rcpt[i] = reply;
          result_.stage[i] = Stage::kMailFrom;
        }
        stop = true;
      }
      break;
    case Expect::kRcpt:
      if (mail_ok_ && index < result_.rcpt.size()) {
        result_.rcpt[index] = reply;
        result_.stage[index] = Stage::kRcptTo;
        accepted_[index] = reply.positive();
        any_accepted |= accepted_[index];
      }
      // Without pipelining, DATA is pointless when nobody was accepted.
      if (!ext_.pipelining && next_command_ == commands_.size() - 1 && !any_accepted) stop = true;
      break;
    case Expect::kData:
      if (reply.code == 354) {
        if (any_accepted && mail_ok_) {
          SendBody();
        } else {
          // A pipelining server that said 354 anyway gets an empty message it must refuse.
          SendLine(".");
          expects_.emplace_back(Expect::kBody, 1);
          Arm(policy_->timeouts.body);
        }
        return;
      }
      for (size_t i = 0; i < accepted_.size(); ++i) {
        if (accepted_[i]) {
          result_.rcpt[i] = reply;
          result_.stage[i] = Stage::kData;
        }
      }
      stop = true;
      break;
    case Expect::kBody:
      if (index == 0) {
        for (size_t i = 0; i < accepted_.size(); ++i) {
          if (accepted_[i]) {
            result_.rcpt[i] = reply;
            result_.stage[i] = Stage::kBody;
          }
        }
      }
      body_done = true;
      break;
  }
  if (!expects_.empty()) {
    switch (expects_.front().first) {
      case Expect::kRcpt: Arm(policy_->timeouts.rcptto); break;
      case Expect::kBody: Arm(policy_->timeouts.body); break;
      default: Arm(policy_->timeouts.mailfrom); break;
    }
    return;
  }
  if (body_done) {
    FinishTransaction(false);
  } else if (stop || next_command_ >= commands_.size()) {
    FinishTransaction(true);
  } else {
    SendNextCommand();
    Arm(next_command_ == commands_.size() ? policy_->timeouts.mailfrom : policy_->timeouts.rcptto);
  }
}

void SmtpClient::FinishTransaction(bool needs_rset) {
  for (ServerReply& r : result_.rcpt) {
    if (r.code == 0) r = Synthesized(451, "no reply to this recipient");
  }
  has_tx_ = false;
  ++transactions_;
  Transaction tx = std::move(tx_);
  TransactionResult result = std::move(result_);
  tx_ = Transaction{};
  result_ = TransactionResult{};
  if (needs_rset) {
    state_ = State::kRset;
    SendLine("RSET");
    expects_.emplace_back(Expect::kRset, 0);
    Arm(policy_->timeouts.rset);
  } else {
    state_ = State::kReady;
    timer_.Stop();
  }
  if (cb_.on_done) cb_.on_done(this, std::move(tx), std::move(result));
  if (state_ == State::kReady && cb_.on_ready) cb_.on_ready(this);
}

void SmtpClient::FailOpen(const ServerReply& reply) {
  if (!has_tx_) return;
  has_tx_ = false;
  for (size_t i = 0; i < result_.rcpt.size(); ++i) {
    // A recipient whose final reply already came stays as it is; one accepted at RCPT but
    // whose data did not complete is open again.
    bool final_reply = result_.rcpt[i].code != 0 && !accepted_[i];
    if (!final_reply) {
      result_.rcpt[i] = reply;
      result_.stage[i] = CurrentStage();
    }
  }
  result_.connection_failure = true;
  Transaction tx = std::move(tx_);
  TransactionResult result = std::move(result_);
  if (cb_.on_done) cb_.on_done(this, std::move(tx), std::move(result));
}

void SmtpClient::Fail(Stage stage, const std::string& why, int code) {
  last_error_ = why;
  EC_LOG(kInfo, "outbound connection failed")
      .Field("domain", policy_->domain)
      .Field("remote", remote())
      .Field("stage", static_cast<int>(stage))
      .Field("error", why);
  ServerReply reply = Synthesized(code >= 500 ? code : 451, why);
  failed_stage_ = stage;
  Close(Status(StatusCode::kUnavailable, why), &reply);
}

void SmtpClient::Close(Status why) { Close(std::move(why), nullptr); }

void SmtpClient::Close(Status why, const ServerReply* open_reply) {
  if (state_ == State::kClosed) return;
  // The stage is read before the state changes so open recipients record where we were.
  if (has_tx_) {
    ServerReply r = open_reply ? *open_reply : Synthesized(451, "connection closed");
    FailOpen(r);
  }
  state_ = State::kClosed;
  timer_.Stop();
  if (bev_) bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
  if (reader_) reader_->Disable();
  base_.RunInLoop([this, alive = alive_, why = std::move(why)] {
    if (!*alive) return;
    reader_.reset();
    retired_reader_.reset();
    bev_.reset();
    address_lease_.reset();  // before on_closed, so the owner sees the address free
    if (cb_.on_closed) cb_.on_closed(this, why);
  });
}

}  // namespace ec::outbound
