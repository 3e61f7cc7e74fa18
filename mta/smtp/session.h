// ServerSession: the I/O-free ESMTP server protocol engine. The listener feeds it the bytes it
// read (plaintext, after TLS decryption), sends what TakeOutput() returns, closes when
// WantsClose(), and carries out what it asks through SessionHooks (TLS handshake, credentials,
// storing a message). Replies to pipelined commands come out in order (RFC 2920); while a
// message is being stored or TLS is being negotiated no further input is processed (input read
// meanwhile is buffered, or after STARTTLS discarded: RFC 3207 / CVE-2011-0411). A message
// body streams through DataReader into the BodySink the hooks give out, so what the session
// holds stays small whatever the client sends; commands that make no progress count toward
// max_errors once past max_junk_commands (a NOOP/RSET flood ends with 421).
// One session per connection; all methods on the connection's thread. The session keeps the
// policy snapshot alive (a config reload does not change sessions in flight) and borrows
// `hooks`, which must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/net/cidr.h"
#include "mta/smtp/command.h"
#include "mta/smtp/data_reader.h"
#include "mta/smtp/reply.h"
#include "mta/smtp/session_policy.h"

namespace ec::smtp {

class ServerSession {
 public:
  // Queues the greeting (220 ..., or static_banner).
  ServerSession(std::shared_ptr<const SessionPolicy> policy, SessionHooks* hooks,
                ConnectionInfo conn);
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Bytes received from the client. Must not be called from inside a hook.
  void OnBytes(std::string_view data);
  // Replies to send, in order; empties the buffer.
  std::string TakeOutput() { return std::move(out_); }
  bool HasOutput() const { return !out_.empty(); }
  // Send the pending output, then close the connection.
  bool WantsClose() const { return phase_ == Phase::kClosed; }
  // False while storing, checking a password, negotiating TLS or closed: the listener may stop
  // reading.
  bool WantsRead() const { return phase_ < Phase::kStoring; }

  // The completions below are ignored if the session closed meanwhile (a timeout).
  void OnTlsEstablished(TlsInfo info);
  void OnTlsFailed();
  void OnMessageStored();
  // kResourceExhausted (disk full) -> 452 4.3.1, anything else -> 451 4.3.0.
  void OnMessageStoreFailed(const Status& status);
  // The verdict of a CheckCredentials that answered kPending (never kPending itself).
  void OnAuthChecked(AuthVerdict verdict);
  void OnIdleTimeout();
  void OnTotalTimeout();
  // A new config was loaded: at the next MAIL or RSET the session says 421 reconfig_message.
  void OnConfigReloaded() { reload_pending_ = true; }

  bool tls_active() const { return tls_.has_value(); }
  const std::string& auth_user() const { return auth_user_; }
  const std::string& helo() const { return helo_; }
  size_t messages_accepted() const { return messages_; }

 private:
  // Ordered: everything before kStoring reads input.
  enum class Phase {
    kCommand,
    kAuthResponse,
    kData,
    kBdat,
    kStoring,
    kAuthChecking,
    kTlsHandshake,
    kClosed
  };
  enum class AuthStep { kNone, kPlain, kLoginUser, kLoginPassword };

  void Pump(std::string_view direct);
  size_t Drive(std::string_view input);
  size_t DriveLine(std::string_view input, size_t pos);
  void HandleCommand(std::string_view line, bool more_input);
  void HandleEhlo(const Command& cmd, bool extended);
  void HandleMail(const Command& cmd);
  void HandleRcpt(const Command& cmd);
  void HandleData(const Command& cmd);
  void HandleBdat(const Command& cmd);
  void HandleStartTls(const Command& cmd, bool more_input);
  void HandleAuth(const Command& cmd);
  void HandleAuthResponse(std::string_view line);
  void FinishAuth(std::string_view user, std::string_view password);
  // Replies to a credentials check; the user becomes auth_user_ if accepted.
  void AnswerAuth(AuthVerdict verdict, std::string user);
  void EndBdatChunk();
  void FinishMessage(std::string_view command);
  std::optional<Reply> CheckMessage() const;
  void ResetTransaction();
  // Common preconditions of MAIL and RSET: reload pending, reception limit.
  bool CheckReload();

  void Send(const Reply& reply);
  void Reject(std::string_view command, const Reply& reply);
  // One more protocol error; 421 and close at max_errors.
  void CountError();
  // One more command that moved nothing forward; an error once past max_junk_commands.
  void CountJunk();
  void Close() { phase_ = Phase::kClosed; }
  bool Enhanced() const { return policy_->extensions.enhanced_status_codes; }
  ParseOptions MakeParseOptions() const;
  DataReader::Limits MakeLimits() const;
  std::string Protocol() const;

  const std::shared_ptr<const SessionPolicy> policy_;
  SessionHooks* const hooks_;
  const ConnectionInfo conn_;
  const std::optional<net::IpAddress> client_ip_;

  Phase phase_ = Phase::kCommand;
  std::string out_;
  std::string in_;             // unprocessed input (a partial line, or pipelined while blocked)
  bool in_process_ = false;    // inside Drive: hooks completing synchronously must not re-enter
  bool discard_line_ = false;  // skipping the rest of an over-long line
  bool start_tls_pending_ = false;

  std::string helo_;
  bool helo_seen_ = false;
  bool esmtp_ = false;
  std::optional<TlsInfo> tls_;
  std::string auth_user_;
  AuthStep auth_step_ = AuthStep::kNone;
  std::string login_user_;
  std::string checking_user_;  // whose credentials are being checked (kAuthChecking)

  // The transaction.
  std::optional<MailCommand> mail_;
  std::vector<std::string> rcpts_;
  std::vector<RcptDsn> rcpt_dsn_;  // parallel to rcpts_
  size_t rcpt_attempts_ = 0;
  bool bdat_used_ = false;
  bool bdat_discard_ = false;
  bool bdat_last_ = false;
  uint64_t bdat_remaining_ = 0;
  uint64_t bdat_chunk_size_ = 0;
  std::optional<Reply> bdat_error_;
  DataReader reader_;
  BodySink* body_ = nullptr;  // the hooks' sink for the message being received, if any
  std::string queue_id_;

  size_t messages_ = 0;
  size_t errors_ = 0;
  size_t junk_ = 0;  // no-progress commands since the last accepted message
  bool reload_pending_ = false;
};

}  // namespace ec::smtp
