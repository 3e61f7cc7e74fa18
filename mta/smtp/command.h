// The SMTP command-line parser: splits a line into verb and arguments and parses the arguments
// of MAIL FROM, RCPT TO, BDAT and AUTH. Every failure is the exact reply the client gets
// (501 5.5.2 syntax, 501 5.1.7 / 501 5.1.3 bad address, 555 5.5.4 unknown parameter, ...).
// Pure functions; input is one line without its CRLF; no threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/base/check.h"
#include "mta/smtp/address.h"
#include "mta/smtp/reply.h"

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
  bool allow_null_sender = true;
  bool allow_ip_literal = true;
  bool transaction_smtputf8 = false;  // for RCPT: MAIL carried SMTPUTF8
};

struct MailCommand {
  Mailbox sender;  // empty for the null reverse path <>
  std::optional<uint64_t> size;
  BodyType body = BodyType::k7Bit;
  bool smtputf8 = false;
  std::optional<std::string> auth;  // AUTH= value (xtext, "<>" for none)
};

struct RcptCommand {
  Mailbox recipient;  // domain empty only for <postmaster>
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
