// SmtpClient: one outbound SMTP connection. Connects to the first address that answers, reads
// the greeting, says EHLO (HELO if refused), upgrades with STARTTLS when the policy asks (and
// says EHLO again), then runs one transaction at a time for its owner: MAIL, RCPT..., DATA,
// body, with the commands pipelined when the server offers PIPELINING. Every wait has its
// timeout. When the server offers DSN, the envelope's RFC 3461 parameters (RET, ENVID, NOTIFY,
// ORCPT) go along on MAIL and RCPT, always as valid xtext. A transaction's outcome is one reply
// per recipient; when the connection fails, the recipients still open get a synthesized 4xx
// reply saying what happened.
//
// Ownership: the Scheduler owns its clients. Callbacks run on the loop thread from inside
// libevent callbacks; on_closed is the last call a client makes, and it is deferred to its own
// loop turn so the owner may destroy the client there.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event/address.h"
#include "common/event/event_base.h"
#include "common/event/handles.h"
#include "common/event/timer.h"
#include "mta/outbound/domain_policy.h"
#include "mta/outbound/outbound_limits.h"
#include "mta/outbound/reply_parser.h"
#include "mta/server/direct_read.h"
#include "mta/spool/queue_id.h"
#include "mta/spool/spool.h"

namespace ec::outbound {

// One transaction's input.
struct Transaction {
  spool::QueueId id;
  std::string mail_from;            // empty: <>
  std::vector<std::string> rcpts;   // addresses without brackets
  std::vector<uint32_t> rcpt_index;  // their positions in the envelope (for the owner)
  std::string data;                 // the stored message: CRLF lines, not dot-stuffed
  bool eightbit = false;
  // The owner's bookkeeping, carried through untouched: the envelope and recipient states as
  // read when the transaction was built.
  std::shared_ptr<spool::SpooledMessage> message;
};

// Connection stages, as Momentum's mainlog numbers them in T/P lines.
enum class Stage : int {
  kConnect = 1,
  kGreeting = 2,
  kEhlo = 3,
  kStartTls = 4,
  kMailFrom = 5,
  kRcptTo = 6,
  kData = 7,
  kBody = 8,
  kRset = 9,
  kQuit = 10,
};

struct TransactionResult {
  std::vector<ServerReply> rcpt;  // parallel to Transaction::rcpts
  std::vector<Stage> stage;       // where each reply came from
  bool connection_failure = false;  // replies were synthesized, the server said nothing final
  uint64_t bytes_sent = 0;
  // The server offered DSN and got the parameters, so reporting is its job now. When false, a
  // recipient it accepted that asked for NOTIFY=SUCCESS is owed a "relayed" DSN (RFC 3461).
  bool dsn_supported = false;
};

// RFC 3461 parameters for a server that offers DSN, each with its leading space; empty when the
// envelope has none. MAIL: RET=FULL|HDRS, ENVID=. RCPT: NOTIFY=NEVER or a list of
// SUCCESS,FAILURE,DELAY, ORCPT=type;xtext. A stored value that is not valid xtext is encoded, so
// no byte that could break the command line (CR, LF, space, "+", "=") goes out raw. A value
// longer than the RFC allows (ENVID 100 characters decoded, ORCPT 500 as sent) is left out and
// named in *dropped, so the server does not refuse the whole transaction over it.
std::string DsnMailParameters(const spool::Envelope& envelope, std::string* dropped = nullptr);
std::string DsnRcptParameters(const spool::Recipient& recipient, std::string* dropped = nullptr);

class SmtpClient {
 public:
  struct Callbacks {
    std::function<void(SmtpClient*)> on_ready;  // idle, can take a Transaction
    std::function<void(SmtpClient*, Transaction&&, TransactionResult&&)> on_done;
    std::function<void(SmtpClient*, const Status&)> on_closed;  // last call; may destroy us
    // Asked before each connect attempt (per-address connection limits): a hold on `address`
    // kept until the client moves to another address or closes, or null to skip the address
    // (it is at its limit). Unset: every address may be tried.
    std::function<std::unique_ptr<LimitLease>(const event::SocketAddress& address)> on_address;
  };

  SmtpClient(event::EventBase& base, std::shared_ptr<const DomainPolicy> policy,
             std::vector<event::SocketAddress> addresses, std::string tls_hostname,
             Callbacks callbacks);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  void Start();
  // Only after on_ready (and before anything else is sent).
  void Send(Transaction tx);
  // Nothing to do now: stay connected for idle_timeout, then QUIT.
  void Idle();
  // QUIT now (or close if not yet ready).
  void Quit();

  bool ready() const { return state_ == State::kReady || state_ == State::kIdle; }
  bool closed() const { return state_ == State::kClosed; }
  bool tls_active() const { return tls_active_; }
  const DomainPolicy& policy() const { return *policy_; }
  const std::shared_ptr<const DomainPolicy>& policy_ptr() const { return policy_; }
  std::string remote() const;  // "ip" of the connected address, or the last tried
  uint64_t deliveries() const { return transactions_; }
  // True once the server greeted and took EHLO/HELO: a close before that is a connect failure.
  bool was_ready() const { return was_ready_; }
  // Where the connection failed (for the T/P lines of messages it never carried).
  Stage failed_stage() const { return failed_stage_; }
  // Closed before connecting because on_address refused an address (and no other answered):
  // the addresses are busy, not broken; on_closed's status is then kResourceExhausted.
  bool addresses_full() const { return addresses_full_; }
  const Extensions& extensions() const { return ext_; }

 private:
  enum class State { kConnecting, kGreeting, kEhlo, kHelo, kStartTls, kTlsHandshake, kReady,
                     kIdle, kBusy, kRset, kQuit, kClosed };
  enum class Expect { kMail, kRcpt, kData, kBody, kRset };

  void ConnectNext();
  void OnConnected();
  void OnRead();
  void OnEvent(short what);
  void HandleReply(ServerReply reply);
  void HandleTransactionReply(ServerReply reply);
  void SendLine(const std::string& line);
  // Sends the next command, or only appends it (CRLF-terminated) to `group` when given.
  void SendNextCommand(std::string* group = nullptr);
  void SendBody();
  void Arm(std::chrono::milliseconds timeout);
  void BecomeReady();
  void FinishTransaction(bool needs_rset);
  // Ends the open transaction (if any) with `reply` for every recipient without one.
  void FailOpen(const ServerReply& reply);
  void Fail(Stage stage, const std::string& why, int code = 421);
  void Close(Status why);
  void Close(Status why, const ServerReply* open_reply);
  Stage CurrentStage() const;

  static void ReadCb(bufferevent*, void* arg);
  static void EventCb(bufferevent*, short what, void* arg);

  event::EventBase& base_;
  std::shared_ptr<const DomainPolicy> policy_;
  std::vector<event::SocketAddress> addresses_;
  size_t next_address_ = 0;
  std::unique_ptr<LimitLease> address_lease_;  // on_address's, for the address in use
  bool skipped_full_ = false;                  // on_address refused an address
  bool addresses_full_ = false;
  std::string tls_hostname_;
  Callbacks cb_;
  event::BufferEventPtr bev_;
  std::unique_ptr<mta::DirectReader> reader_;  // reads bev_ until STARTTLS; freed before bev_
  // The reader STARTTLS ended, disarmed: that happens inside the reader's own callback, so it
  // is freed later (Close, ConnectNext).
  std::unique_ptr<mta::DirectReader> retired_reader_;
  event::Timer timer_;
  State state_ = State::kConnecting;
  std::string in_;
  Extensions ext_;
  bool tls_active_ = false;
  bool was_ready_ = false;
  Stage failed_stage_ = Stage::kConnect;
  std::string last_error_;
  uint64_t transactions_ = 0;

  // The transaction in progress.
  bool has_tx_ = false;
  Transaction tx_;
  TransactionResult result_;
  std::vector<std::string> commands_;  // MAIL, RCPT..., DATA
  size_t next_command_ = 0;
  std::deque<std::pair<Expect, size_t>> expects_;  // (what, rcpt index)
  std::vector<bool> accepted_;
  bool mail_ok_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ec::outbound
