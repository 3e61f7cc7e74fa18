#include "mta/smtp/session.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "mta/smtp/base64.h"
#include "mta/smtp/message_assembly.h"

namespace ec::smtp {
namespace {

const Reply kOk{250, "2.0.0", "Ok"};

Reply BadSequence(std::string text) { return Reply{503, "5.5.1", std::move(text)}; }

}  // namespace

ServerSession::ServerSession(std::shared_ptr<const SessionPolicy> policy, SessionHooks* hooks,
                             ConnectionInfo conn)
    : policy_(std::move(policy)),
      hooks_(hooks),
      conn_(std::move(conn)),
      client_ip_(net::IpAddress::Parse(conn_.client_ip)),
      tls_(conn_.tls_on_connect) {
  EC_CHECK(policy_ != nullptr && hooks_ != nullptr);
  if (!policy_->static_banner.empty()) {
    out_ = policy_->static_banner;
    if (out_.size() < 2 || out_.compare(out_.size() - 2, 2, "\r\n") != 0) out_ += "\r\n";
  } else {
    out_ = "220 " + policy_->banner_hostname + " ESMTP ecmta\r\n";
  }
}

// ---------------------------------------------------------------------------------------------
// Input plumbing

void ServerSession::OnBytes(std::string_view data) {
  EC_CHECK(!in_process_);
  // After STARTTLS, plaintext must never reach the protocol (RFC 3207 §5); when closed, nothing.
  if (phase_ == Phase::kTlsHandshake || phase_ == Phase::kClosed) return;
  if (in_.empty()) {
    Pump(data);
  } else {
    in_.append(data);
    Pump({});
  }
}

// Processes `direct` (when nothing is buffered) or the buffered input, keeping what is left.
void ServerSession::Pump(std::string_view direct) {
  in_process_ = true;
  if (!direct.empty()) {
    const size_t used = Drive(direct);
    if (phase_ != Phase::kClosed && phase_ != Phase::kTlsHandshake) {
      in_.append(direct.substr(used));
    }
  } else if (!in_.empty()) {
    const size_t used = Drive(in_);
    in_.erase(0, used);
  }
  if (phase_ == Phase::kClosed || phase_ == Phase::kTlsHandshake) in_.clear();
  in_process_ = false;
  if (start_tls_pending_) {
    start_tls_pending_ = false;
    hooks_->StartTls();  // may call OnTlsEstablished right away
  }
}

size_t ServerSession::Drive(std::string_view input) {
  size_t pos = 0;
  while (pos < input.size()) {
    switch (phase_) {
      case Phase::kCommand:
      case Phase::kAuthResponse: {
        const size_t next = DriveLine(input, pos);
        if (next == pos) return pos;  // need more input
        pos = next;
        break;
      }
      case Phase::kData:
        pos += reader_.Feed(input.substr(pos));
        if (reader_.done()) FinishMessage("DATA");
        break;
      case Phase::kBdat: {
        const size_t n =
            static_cast<size_t>(std::min<uint64_t>(bdat_remaining_, input.size() - pos));
        if (!bdat_discard_) reader_.Feed(input.substr(pos, n));
        pos += n;
        bdat_remaining_ -= n;
        if (bdat_remaining_ == 0) EndBdatChunk();
        break;
      }
      case Phase::kStoring:
      case Phase::kAuthChecking:
        return pos;  // pipelined input waits until the message is stored / AUTH answered
      case Phase::kTlsHandshake:
      case Phase::kClosed:
        return input.size();  // whatever follows STARTTLS or a close is dropped
    }
  }
  return pos;
}

// Handles one complete line at `pos`; returns the position after it, or `pos` if the line is
// not complete yet.
size_t ServerSession::DriveLine(std::string_view input, size_t pos) {
  const std::string_view rest = input.substr(pos);
  const void* hit = std::memchr(rest.data(), '\n', rest.size());
  if (discard_line_) {
    if (hit == nullptr) return input.size();
    discard_line_ = false;
    return pos + (static_cast<const char*>(hit) - rest.data()) + 1;
  }
  const bool auth_line = phase_ == Phase::kAuthResponse || StartsWithIgnoreCase(rest, "AUTH ");
  size_t limit = auth_line ? policy_->max_auth_line_length : policy_->max_command_line_length;
  // NOTIFY and ORCPT may lengthen RCPT lines once DSN was offered.
  if (!auth_line && esmtp_ && policy_->extensions.dsn && StartsWithIgnoreCase(rest, "RCPT ")) {
    limit += kDsnRcptLineAllowance;
  }
  const Reply too_long{500, "5.5.6", "Error: line too long"};
  if (hit == nullptr) {
    if (rest.size() < limit) return pos;
    // No CRLF within the limit: answer now, skip to the end of the line.
    discard_line_ = true;
    if (phase_ == Phase::kAuthResponse) phase_ = Phase::kCommand;
    Reject("", too_long);
    return input.size();
  }
  const size_t len = static_cast<const char*>(hit) - rest.data();  // without LF
  std::string_view line = rest.substr(0, len);
  const size_t next = pos + len + 1;
  if (len + 1 + (line.empty() || line.back() != '\r' ? 1 : 0) > limit) {
    if (phase_ == Phase::kAuthResponse) phase_ = Phase::kCommand;
    Reject("", too_long);
    return next;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (phase_ == Phase::kAuthResponse) {
    HandleAuthResponse(line);
  } else {
    HandleCommand(line, next < input.size());
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// Replies

void ServerSession::Send(const Reply& reply) {
  AppendReply(reply, Enhanced() && !reply.enhanced.empty(), &out_);
  if (reply.closes()) Close();
}

void ServerSession::Reject(std::string_view command, const Reply& reply) {
  Send(reply);
  hooks_->OnRejected(command, reply);
  if (reply.code >= 500) {
    CountError();
  } else if (reply.code >= 400) {
    CountJunk();  // a 4xx moved nothing forward either (e.g. RCPT past the limit, again)
  }
}

void ServerSession::CountError() {
  if (phase_ != Phase::kClosed && policy_->max_errors != 0 && ++errors_ >= policy_->max_errors) {
    Send(Reply{421, "4.7.0", policy_->banner_hostname + " Error: too many errors"});
  }
}

void ServerSession::CountJunk() {
  if (policy_->max_junk_commands != 0 && ++junk_ > policy_->max_junk_commands) CountError();
}

// ---------------------------------------------------------------------------------------------
// Commands

void ServerSession::HandleCommand(std::string_view line, bool more_input) {
  const Command cmd = ParseCommandLine(line);
  if (line.empty()) return Reject(line, Reply{500, "5.5.2", "Error: bad syntax"});
  if (policy_->require_ehlo && !helo_seen_) {
    switch (cmd.verb) {
      case Verb::kMail:
      case Verb::kRcpt:
      case Verb::kData:
      case Verb::kBdat:
      case Verb::kAuth:
        return Reject(line, BadSequence("Error: send HELO/EHLO first"));
      default:
        break;
    }
  }
  switch (cmd.verb) {
    case Verb::kHelo:
      return HandleEhlo(cmd, false);
    case Verb::kEhlo:
      return HandleEhlo(cmd, true);
    case Verb::kMail:
      return HandleMail(cmd);
    case Verb::kRcpt:
      return HandleRcpt(cmd);
    case Verb::kData:
      return HandleData(cmd);
    case Verb::kBdat:
      return HandleBdat(cmd);
    case Verb::kStartTls:
      return HandleStartTls(cmd, more_input);
    case Verb::kAuth:
      return HandleAuth(cmd);
    case Verb::kRset:
      if (!cmd.args.empty()) return Reject(line, Reply{501, "5.5.4", "Syntax: RSET"});
      if (!CheckReload()) return;
      ResetTransaction();
      Send(kOk);
      return CountJunk();
    case Verb::kNoop:
      Send(kOk);
      return CountJunk();
    case Verb::kQuit:
      Send(Reply{221, "2.0.0", "Bye"});
      return Close();
    case Verb::kVrfy:
      if (cmd.args.empty()) return Reject(line, Reply{501, "5.5.4", "Syntax: VRFY address"});
      Send(Reply{252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"});
      return CountJunk();
    case Verb::kExpn:
      return Reject(line, Reply{502, "5.5.1", "Error: EXPN not supported"});
    case Verb::kHelp:
      Send(Reply{214, "2.0.0",
                 "Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS "
                 "AUTH"});
      return CountJunk();
    case Verb::kUnknown:
      return Reject(line, Reply{500, "5.5.1", "Error: command not recognized"});
  }
}

void ServerSession::HandleEhlo(const Command& cmd, bool extended) {
  if (cmd.args.empty()) {
    return Reject(
        cmd.verb_text,
        Reply{501, "5.5.2", extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname"});
  }
  // The HELO name ends up in Received:; keep it to one printable ASCII token.
  helo_ = std::string(cmd.args.substr(0, std::min<size_t>(cmd.args.find(' '), 255)));
  for (char& c : helo_) {
    if (c < 0x21 || c > 0x7e) c = '?';
  }
  // The first one (and the first after STARTTLS) is progress; repeating it is not.
  const bool repeated = std::exchange(helo_seen_, true);
  esmtp_ = extended;
  ResetTransaction();  // EHLO/HELO imply RSET (RFC 5321 §4.1.4)
  if (!extended) {
    Send(Reply{250, "", policy_->banner_hostname});
    if (repeated) CountJunk();
    return;
  }
  const Extensions& ext = policy_->extensions;
  std::string text = policy_->banner_hostname;
  auto add = [&text](std::string_view keyword) {
    text += '\n';
    text += keyword;
  };
  if (ext.pipelining) add("PIPELINING");
  // Always a number: even with max_message_size = 0 the spool has a hard limit.
  if (ext.size) add("SIZE " + std::to_string(policy_->MessageSizeLimit()));
  if (ext.eightbitmime) add("8BITMIME");
  if (ext.dsn) add("DSN");
  if (ext.enhanced_status_codes) add("ENHANCEDSTATUSCODES");
  if (ext.starttls && policy_->tls_available && !tls_) add("STARTTLS");
  if (policy_->auth_available && (tls_ || !policy_->auth_requires_tls) &&
      (ext.auth_plain || ext.auth_login)) {
    std::string auth = "AUTH";
    if (ext.auth_plain) auth += " PLAIN";
    if (ext.auth_login) auth += " LOGIN";
    add(auth);
  }
  if (ext.chunking) add("CHUNKING");
  if (ext.chunking && ext.binarymime) add("BINARYMIME");
  if (ext.smtputf8) add("SMTPUTF8");
  Send(Reply{250, "", std::move(text)});
  if (repeated) CountJunk();
}

bool ServerSession::CheckReload() {
  if (reload_pending_) {
    Send(Reply{421, "", policy_->reconfig_message});
    return false;
  }
  return true;
}

ParseOptions ServerSession::MakeParseOptions() const {
  const Extensions& ext = policy_->extensions;
  ParseOptions o;
  // After HELO no service extension may be used.
  o.size = esmtp_ && ext.size;
  o.eightbitmime = esmtp_ && ext.eightbitmime;
  o.binarymime = esmtp_ && ext.chunking && ext.binarymime;
  o.smtputf8 = esmtp_ && ext.smtputf8;
  o.auth = esmtp_ && policy_->auth_available;
  o.dsn = esmtp_ && ext.dsn;
  o.allow_null_sender = policy_->allow_null_envelope_sender;
  o.allow_ip_literal = policy_->allow_ip_literal;
  o.transaction_smtputf8 = mail_ && mail_->smtputf8;
  return o;
}

void ServerSession::HandleMail(const Command& cmd) {
  if (!CheckReload()) return;
  if (policy_->max_receptions_per_connection != 0 &&
      messages_ >= policy_->max_receptions_per_connection) {
    return Send(Reply{421, "4.7.0",
                      policy_->banner_hostname + " Error: too many messages in this session"});
  }
  if (mail_) return Reject(cmd.verb_text, BadSequence("Error: nested MAIL command"));
  Parsed<MailCommand> parsed = ParseMailArgs(cmd.args, MakeParseOptions());
  if (!parsed.ok()) return Reject(cmd.verb_text, parsed.error());
  if (parsed.value().size && *parsed.value().size > policy_->MessageSizeLimit()) {
    return Reject(cmd.verb_text,
                  Reply{552, "5.3.4", "Error: message size exceeds fixed maximum message size"});
  }
  if (std::optional<Reply> refused = hooks_->AdmitTransaction()) {
    return Reject(cmd.verb_text, *refused);
  }
  mail_ = std::move(parsed.value());
  Send(Reply{250, "2.1.0", "Ok"});
}

void ServerSession::HandleRcpt(const Command& cmd) {
  if (!mail_) return Reject(cmd.verb_text, BadSequence("Error: need MAIL command"));
  ++rcpt_attempts_;
  Parsed<RcptCommand> parsed = ParseRcptArgs(cmd.args, MakeParseOptions());
  if (!parsed.ok()) return Reject(cmd.verb_text, parsed.error());
  if (rcpts_.size() >= policy_->RecipientLimit()) {
    return Reject(cmd.verb_text, Reply{452, "4.5.3", "Error: too many recipients"});
  }
  const Mailbox& rcpt = parsed.value().recipient;
  const bool may_relay =
      ClientMayRelay(policy_->relay, client_ip_ ? &*client_ip_ : nullptr, !auth_user_.empty());
  if (DecideRecipient(policy_->relay, rcpt, may_relay) == RcptVerdict::kDenied) {
    return Reject(cmd.verb_text, Reply{550, "5.7.1", "<" + rcpt.ToString() + ">: Relaying denied"});
  }
  rcpts_.push_back(rcpt.ToString());
  rcpt_dsn_.push_back(std::move(parsed.value().dsn));
  Send(Reply{250, "2.1.5", "Ok"});
}

DataReader::Limits ServerSession::MakeLimits() const {
  DataReader::Limits limits;
  limits.max_message_size = policy_->MessageSizeLimit();
  limits.max_line_length = policy_->max_line_length;
  limits.max_header_line_length = policy_->max_header_line_length;
  return limits;
}

void ServerSession::HandleData(const Command& cmd) {
  if (!cmd.args.empty()) return Reject(cmd.verb_text, Reply{501, "5.5.4", "Syntax: DATA"});
  if (!mail_) return Reject(cmd.verb_text, BadSequence("Error: need MAIL command"));
  if (bdat_used_) return Reject(cmd.verb_text, BadSequence("Error: DATA after BDAT"));
  if (rcpts_.empty()) {
    return Reject(cmd.verb_text, rcpt_attempts_ > 0
                                     ? Reply{554, "5.5.1", "Error: no valid recipients"}
                                     : BadSequence("Error: need RCPT command"));
  }
  body_ = hooks_->OpenBody();
  reader_.Begin(DataReader::Mode::kDotStuffed, policy_->lone_lf_in_body, MakeLimits(), body_);
  phase_ = Phase::kData;
  Send(Reply{354, "", "End data with <CR><LF>.<CR><LF>"});
}

void ServerSession::HandleBdat(const Command& cmd) {
  Parsed<BdatCommand> parsed = ParseBdatArgs(cmd.args);
  if (!parsed.ok()) {
    // Without a size the end of the chunk cannot be found: the stream is lost.
    Reject(cmd.verb_text, Reply{554, "5.5.4", "Error: bad BDAT syntax, closing connection"});
    return Close();
  }
  bdat_chunk_size_ = bdat_remaining_ = parsed.value().size;
  bdat_last_ = parsed.value().last;
  bdat_error_.reset();
  if (!esmtp_ || !policy_->extensions.chunking) {
    bdat_error_ = Reply{502, "5.5.1", "Error: BDAT not available"};
  } else if (!mail_) {
    bdat_error_ = BadSequence("Error: need MAIL command");
  } else if (rcpts_.empty()) {
    bdat_error_ = rcpt_attempts_ > 0 ? Reply{554, "5.5.1", "Error: no valid recipients"}
                                     : BadSequence("Error: need RCPT command");
  }
  bdat_discard_ = bdat_error_.has_value();
  if (!bdat_discard_ && !bdat_used_) {
    bdat_used_ = true;
    const DataReader::Mode mode = mail_->body == BodyType::kBinaryMime ? DataReader::Mode::kBinary
                                                                       : DataReader::Mode::kChunked;
    body_ = hooks_->OpenBody();
    reader_.Begin(mode, policy_->lone_lf_in_body, MakeLimits(), body_);
  }
  phase_ = Phase::kBdat;
  if (bdat_remaining_ == 0) EndBdatChunk();
}

void ServerSession::EndBdatChunk() {
  phase_ = Phase::kCommand;
  if (bdat_error_) {
    // The chunk was read and dropped; the transaction (if any) is over (RFC 3030 §2).
    const Reply error = *bdat_error_;
    bdat_error_.reset();
    if (mail_) ResetTransaction();
    return Reject("BDAT", error);
  }
  if (reader_.size_exceeded()) {
    ResetTransaction();
    return Reject("BDAT", Reply{552, "5.3.4", "Error: message too large"});
  }
  if (!bdat_last_) {
    return Send(Reply{250, "2.0.0", std::to_string(bdat_chunk_size_) + " octets received"});
  }
  reader_.Finish();
  FinishMessage("BDAT");
}

std::optional<Reply> ServerSession::CheckMessage() const {
  if (reader_.size_exceeded()) return Reply{552, "5.3.4", "Error: message too large"};
  if (policy_->lone_lf_in_body == LineEndingPolicy::kPedantic &&
      (reader_.saw_bare_cr() || reader_.saw_bare_lf())) {
    return Reply{550, "5.6.0", "Error: message contains bare CR or LF characters"};
  }
  if (reader_.header_line_too_long()) {
    return Reply{554, "5.6.0",
                 "Error: header line longer than " +
                     std::to_string(policy_->max_header_line_length) + " octets"};
  }
  if (reader_.line_too_long()) {
    return Reply{554, "5.6.0",
                 "Error: line longer than " + std::to_string(policy_->max_line_length) + " octets"};
  }
  if (policy_->date_header == DateHeaderPolicy::kPedantic && !reader_.headers().has_date) {
    return Reply{550, "5.6.0", "Error: message has no Date: header"};
  }
  return std::nullopt;
}

std::string ServerSession::Protocol() const {
  if (!esmtp_) return "SMTP";
  std::string p = "ESMTP";
  if (tls_) p += 'S';
  if (!auth_user_.empty()) p += 'A';
  return p;
}

void ServerSession::FinishMessage(std::string_view command) {
  if (std::optional<Reply> error = CheckMessage()) {
    phase_ = Phase::kCommand;
    ResetTransaction();
    return Reject(command, *error);
  }
  ReceivedMessage message;
  Envelope& env = message.envelope;
  queue_id_ = hooks_->NewQueueId();
  env.queue_id = queue_id_;
  env.mail_from = mail_->sender.ToString();
  env.rcpts = std::move(rcpts_);
  env.rcpt_dsn = std::move(rcpt_dsn_);
  env.dsn_ret = mail_->dsn_ret;
  env.dsn_envid = mail_->dsn_envid;
  env.helo = helo_;
  env.protocol = Protocol();
  env.client_ip = conn_.client_ip;
  env.client_rdns = conn_.client_rdns;
  env.auth_user = auth_user_;
  env.tls = tls_;
  env.body_type = mail_->body;
  env.smtputf8 = mail_->smtputf8;
  env.declared_size = mail_->size;
  env.received_at = hooks_->Now();
  message.headers = BuildPrependedHeaders(env, reader_.headers(), *policy_);
  message.body_size = reader_.content_size();
  body_ = nullptr;  // the hooks take what it holds
  phase_ = Phase::kStoring;
  hooks_->StoreMessage(std::move(message));  // may complete re-entrantly
}

void ServerSession::OnMessageStored() {
  if (phase_ == Phase::kClosed) return;  // timed out meanwhile; nobody to tell
  EC_CHECK(phase_ == Phase::kStoring);
  ++messages_;
  junk_ = 0;
  phase_ = Phase::kCommand;
  Send(Reply{250, "2.0.0", "Ok: queued as " + queue_id_});
  ResetTransaction();
  if (!in_process_) Pump({});
}

void ServerSession::OnMessageStoreFailed(const Status& status) {
  if (phase_ == Phase::kClosed) return;
  EC_CHECK(phase_ == Phase::kStoring);
  phase_ = Phase::kCommand;
  const Reply reply = status.code() == StatusCode::kResourceExhausted
                          ? Reply{452, "4.3.1", "Error: insufficient system storage"}
                          : Reply{451, "4.3.0", "Error: local error in processing"};
  ResetTransaction();
  Reject("DATA", reply);
  if (!in_process_) Pump({});
}

void ServerSession::ResetTransaction() {
  if (body_ != nullptr) {
    body_->Discard();  // RSET or EHLO between BDAT chunks, a refused message: nothing kept
    body_ = nullptr;
  }
  mail_.reset();
  rcpts_.clear();
  rcpt_dsn_.clear();
  rcpt_attempts_ = 0;
  bdat_used_ = false;
  bdat_error_.reset();
}

// ---------------------------------------------------------------------------------------------
// STARTTLS and AUTH

void ServerSession::HandleStartTls(const Command& cmd, bool more_input) {
  if (!policy_->extensions.starttls || !policy_->tls_available) {
    return Reject(cmd.verb_text, Reply{502, "5.5.1", "Error: STARTTLS not available"});
  }
  if (!esmtp_) return Reject(cmd.verb_text, BadSequence("Error: send EHLO first"));
  if (tls_) return Reject(cmd.verb_text, BadSequence("Error: TLS already active"));
  if (!cmd.args.empty()) return Reject(cmd.verb_text, Reply{501, "5.5.4", "Syntax: STARTTLS"});
  if (mail_) return Reject(cmd.verb_text, BadSequence("Error: MAIL transaction in progress"));
  if (more_input && policy_->starttls_injection == StartTlsInjectionPolicy::kReject) {
    Reject(cmd.verb_text, Reply{554, "5.5.1", "Error: command pipelined after STARTTLS"});
    return Close();
  }
  Send(Reply{220, "2.0.0", "Ready to start TLS"});
  phase_ = Phase::kTlsHandshake;  // Drive drops everything after this line
  start_tls_pending_ = true;
}

void ServerSession::OnTlsEstablished(TlsInfo info) {
  if (phase_ == Phase::kClosed) return;
  EC_CHECK(phase_ == Phase::kTlsHandshake);
  tls_ = std::move(info);
  // RFC 3207 §4.2: forget everything learnt from the client before TLS.
  helo_.clear();
  helo_seen_ = esmtp_ = false;
  auth_user_.clear();
  ResetTransaction();
  in_.clear();
  phase_ = Phase::kCommand;
}

void ServerSession::OnTlsFailed() {
  in_.clear();
  Close();
}

void ServerSession::HandleAuth(const Command& cmd) {
  const Extensions& ext = policy_->extensions;
  if (!policy_->auth_available || !(ext.auth_plain || ext.auth_login)) {
    return Reject(cmd.verb_text, Reply{502, "5.5.1", "Error: authentication not enabled"});
  }
  if (!esmtp_) return Reject(cmd.verb_text, BadSequence("Error: send EHLO first"));
  if (!auth_user_.empty())
    return Reject(cmd.verb_text, BadSequence("Error: already authenticated"));
  if (mail_) return Reject(cmd.verb_text, BadSequence("Error: MAIL transaction in progress"));
  if (policy_->auth_requires_tls && !tls_) {
    return Reject(
        cmd.verb_text,
        Reply{538, "5.7.11", "Encryption required for requested authentication mechanism"});
  }
  Parsed<AuthCommand> parsed = ParseAuthArgs(cmd.args);
  if (!parsed.ok()) return Reject(cmd.verb_text, parsed.error());
  const AuthCommand& auth = parsed.value();
  if (auth.mechanism == "PLAIN" && ext.auth_plain) {
    auth_step_ = AuthStep::kPlain;
    if (!auth.initial_response) {
      phase_ = Phase::kAuthResponse;
      return Send(Reply{334, "", ""});
    }
    // "=" is an empty initial response (RFC 4954 §4).
    return HandleAuthResponse(*auth.initial_response == "=" ? std::string_view()
                                                            : *auth.initial_response);
  }
  if (auth.mechanism == "LOGIN" && ext.auth_login) {
    auth_step_ = AuthStep::kLoginUser;
    if (!auth.initial_response) {
      phase_ = Phase::kAuthResponse;
      return Send(Reply{334, "", "VXNlcm5hbWU6"});  // "Username:"
    }
    return HandleAuthResponse(*auth.initial_response);
  }
  Reject(cmd.verb_text, Reply{504, "5.5.4", "Error: unrecognized authentication type"});
}

void ServerSession::HandleAuthResponse(std::string_view line) {
  phase_ = Phase::kCommand;
  if (line == "*") {
    auth_step_ = AuthStep::kNone;
    return Reject("AUTH", Reply{501, "5.0.0", "Authentication cancelled"});
  }
  std::optional<std::string> decoded = Base64Decode(line);
  if (!decoded) {
    auth_step_ = AuthStep::kNone;
    return Reject("AUTH", Reply{501, "5.5.2", "Error: invalid base64 data"});
  }
  switch (auth_step_) {
    case AuthStep::kPlain: {
      // authzid NUL authcid NUL passwd; we only act as the authenticated identity.
      const std::string& s = *decoded;
      const size_t a = s.find('\0');
      const size_t b = a == std::string::npos ? a : s.find('\0', a + 1);
      if (b == std::string::npos || s.find('\0', b + 1) != std::string::npos) {
        auth_step_ = AuthStep::kNone;
        return Reject("AUTH", Reply{501, "5.5.2", "Error: malformed PLAIN response"});
      }
      const std::string_view authzid(s.data(), a);
      const std::string_view user(s.data() + a + 1, b - a - 1);
      const std::string_view pass(s.data() + b + 1, s.size() - b - 1);
      if (!authzid.empty() && authzid != user) {
        auth_step_ = AuthStep::kNone;
        return Reject("AUTH", Reply{535, "5.7.8", "Authentication credentials invalid"});
      }
      return FinishAuth(user, pass);
    }
    case AuthStep::kLoginUser:
      login_user_ = std::move(*decoded);
      auth_step_ = AuthStep::kLoginPassword;
      phase_ = Phase::kAuthResponse;
      return Send(Reply{334, "", "UGFzc3dvcmQ6"});  // "Password:"
    case AuthStep::kLoginPassword: {
      const std::string user = std::move(login_user_);
      login_user_.clear();
      return FinishAuth(user, *decoded);
    }
    case AuthStep::kNone:
      break;
  }
  EC_PANIC("auth response without an AUTH exchange");
}

void ServerSession::FinishAuth(std::string_view user, std::string_view password) {
  auth_step_ = AuthStep::kNone;
  if (user.empty())
    return Reject("AUTH", Reply{535, "5.7.8", "Authentication credentials invalid"});
  const AuthVerdict verdict = hooks_->CheckCredentials(user, password);
  if (verdict != AuthVerdict::kPending) return AnswerAuth(verdict, std::string(user));
  checking_user_ = std::string(user);
  phase_ = Phase::kAuthChecking;
}

void ServerSession::OnAuthChecked(AuthVerdict verdict) {
  if (phase_ == Phase::kClosed) return;  // timed out meanwhile
  EC_CHECK(phase_ == Phase::kAuthChecking && verdict != AuthVerdict::kPending);
  phase_ = Phase::kCommand;
  AnswerAuth(verdict, std::move(checking_user_));
  checking_user_.clear();
  if (!in_process_) Pump({});
}

void ServerSession::AnswerAuth(AuthVerdict verdict, std::string user) {
  switch (verdict) {
    case AuthVerdict::kAccepted:
      auth_user_ = std::move(user);
      return Send(Reply{235, "2.7.0", "Authentication successful"});
    case AuthVerdict::kRejected:
      return Reject("AUTH", Reply{535, "5.7.8", "Authentication credentials invalid"});
    case AuthVerdict::kTemporaryFailure:
    case AuthVerdict::kPending:
      return Reject("AUTH", Reply{454, "4.7.0", "Temporary authentication failure"});
  }
}

// ---------------------------------------------------------------------------------------------
// Timers

void ServerSession::OnIdleTimeout() {
  if (phase_ == Phase::kClosed) return;
  Send(Reply{421, "4.4.2", policy_->banner_hostname + " Error: timeout exceeded"});
}

void ServerSession::OnTotalTimeout() {
  if (phase_ == Phase::kClosed) return;
  Send(Reply{421, "4.4.2", policy_->banner_hostname + " Error: session time limit exceeded"});
}

}  // namespace ec::smtp
