// The SMTP command-line parser: splits a line into verb and arguments and parses the arguments
// of MAIL FROM, RCPT TO, BDAT and AUTH. Every failure is the exact reply the client gets
// (501 5.5.2 syntax, 501 5.1.7 / 501 5.1.3 bad address, 555 5.5.4 unknown parameter, 501 5.5.4
// bad parameter value, ...). DSN values (ENVID, ORCPT) are validated and kept as sent (xtext).
// Pure functions; input is one line without its CRLF; no threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/base/check.h"
#include "mta/smtp/address.h"
#include "mta/smtp/reply.h"
#include "mta/spool/envelope.h"  // the DSN value types (DsnRet, NotifyFlags) stored as parsed

namespace ec::smtp {

enum class Verb {
  kHelo,
  kEhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kNoop,
  kQuit,
  kVrfy,
  kExpn,
  kHelp,
  kStartTls,
  kAuth,
  kUnknown,
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view verb_text;  // as sent
  std::string_view args;       // after the verb and one space, trailing blanks removed
};

// Either a value or the reply that explains why the input was refused.
template <typename T>
class Parsed {
 public:
  Parsed(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Parsed(Reply reply) : v_(std::move(reply)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  const T& value() const {
    EC_CHECK(ok());
    return std::get<0>(v_);
  }
  T& value() {
    EC_CHECK(ok());
    return std::get<0>(v_);
  }
  const Reply& error() const {
    EC_CHECK(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Reply> v_;
};

enum class BodyType { k7Bit, k8BitMime, kBinaryMime };
std::string_view BodyTypeName(BodyType type);

// What the client may use in this transaction: the extensions offered in EHLO (none after
// HELO) and the address options.
struct ParseOptions {
  bool size = true;
  bool eightbitmime = true;
  bool binarymime = false;  // only with CHUNKING
  bool smtputf8 = false;
  bool auth = false;  // AUTH= on MAIL
  bool dsn = false;   // RET=/ENVID= on MAIL, NOTIFY=/ORCPT= on RCPT (RFC 3461)
  bool allow_null_sender = true;
  bool allow_ip_literal = true;
  bool transaction_smtputf8 = false;  // for RCPT: MAIL carried SMTPUTF8
};

struct MailCommand {
  Mailbox sender;  // empty for the null reverse path <>
  std::optional<uint64_t> size;
  BodyType body = BodyType::k7Bit;
  bool smtputf8 = false;
  std::optional<std::string> auth;                // AUTH= value (xtext, "<>" for none)
  spool::DsnRet dsn_ret = spool::DsnRet::kUnset;  // RET=
  std::string dsn_envid;                          // ENVID= as sent (xtext); empty if not given
};

// RFC 3461 limits: ENVID at most 100 characters once decoded (§4.4), an ORCPT value at most 500
// (§4.2; we bound the value as sent, which is never shorter than the decoded one).
inline constexpr size_t kMaxEnvidLength = 100;
inline constexpr size_t kMaxOrcptLength = 500;
// Room NOTIFY and a longest ORCPT may add to a RCPT line (RFC 5321 §4.5.3.1.4 lets extensions
// raise the 512 limit). MAIL gets none: RET and a 100-character ENVID fit in 512 beside a
// normal path, and a MAIL line past the limit keeps getting 500 5.5.6.
inline constexpr size_t kDsnRcptLineAllowance =
    std::string_view(" NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=").size() + kMaxOrcptLength;

// The DSN request of one recipient (NOTIFY= and ORCPT=).
struct RcptDsn {
  uint8_t notify = 0;  // spool::NotifyFlags; 0 = no NOTIFY given
  std::string orcpt;   // "addr-type;xtext" exactly as sent; empty if not given

  bool operator==(const RcptDsn&) const = default;
};

struct RcptCommand {
  Mailbox recipient;  // domain empty only for <postmaster>
  RcptDsn dsn;
};

struct BdatCommand {
  uint64_t size = 0;
  bool last = false;
};

struct AuthCommand {
  std::string mechanism;  // upper case
  std::optional<std::string_view> initial_response;
};

// Splits "VERB args". The verb is matched case-insensitively; "MAIL FROM:" and "RCPT TO:" are
// recognised by their first word only.
Command ParseCommandLine(std::string_view line);

Parsed<MailCommand> ParseMailArgs(std::string_view args, const ParseOptions& options);
Parsed<RcptCommand> ParseRcptArgs(std::string_view args, const ParseOptions& options);
Parsed<BdatCommand> ParseBdatArgs(std::string_view args);
Parsed<AuthCommand> ParseAuthArgs(std::string_view args);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

}  // namespace ec::smtp
