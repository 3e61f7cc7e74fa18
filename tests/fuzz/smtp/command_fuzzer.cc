// Fuzzes the command-line parser and the path parser with one line of input. Invariants: no
// crash, an accepted address respects the RFC 5321 limits and the SMTPUTF8 rule, and accepted
// DSN values respect RFC 3461 (bounded, printable xtext, NEVER alone).
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "mta/smtp/address.h"
#include "mta/smtp/command.h"

namespace {

using namespace ec::smtp;

void CheckMailbox(const Mailbox& m, bool utf8) {
  EC_CHECK(m.local_part.size() <= kMaxLocalPartLength);
  EC_CHECK(m.domain.size() <= kMaxDomainLength);
  if (!utf8) {
    for (unsigned char c : m.local_part + m.domain) EC_CHECK(c < 0x80);
  }
  for (char c : m.local_part + m.domain) EC_CHECK(c != '\r' && c != '\n' && c != '\0');
}

void CheckXtextValue(std::string_view v, size_t max_sent) {
  EC_CHECK(v.size() <= max_sent);
  for (unsigned char c : v) EC_CHECK(c > 32 && c < 127 && c != '=');
}

void CheckRcptDsn(const RcptDsn& dsn) {
  EC_CHECK((dsn.notify & ec::spool::kNotifyNever) == 0 || dsn.notify == ec::spool::kNotifyNever);
  if (!dsn.orcpt.empty()) {
    // "addr-type;xtext": the type is an atom (which may hold "="), the address xtext.
    EC_CHECK(dsn.orcpt.size() <= kMaxOrcptLength);
    const size_t semi = dsn.orcpt.find(';');
    EC_CHECK(semi != std::string::npos && semi > 0 && semi + 1 < dsn.orcpt.size());
    for (unsigned char c : dsn.orcpt.substr(0, semi)) EC_CHECK(c > 32 && c < 127);
    CheckXtextValue(std::string_view(dsn.orcpt).substr(semi + 1), kMaxOrcptLength);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const Command cmd = ParseCommandLine(line);
  for (bool esmtp : {false, true}) {
    ParseOptions o;
    o.size = o.eightbitmime = o.binarymime = o.smtputf8 = o.auth = o.dsn = esmtp;
    o.transaction_smtputf8 = esmtp;
    Parsed<MailCommand> mail = ParseMailArgs(cmd.args, o);
    if (mail.ok()) {
      CheckMailbox(mail.value().sender, mail.value().smtputf8);
      // Each decoded ENVID character takes at most three as sent.
      CheckXtextValue(mail.value().dsn_envid, 3 * kMaxEnvidLength);
      EC_CHECK(esmtp || (mail.value().dsn_envid.empty() &&
                         mail.value().dsn_ret == ec::spool::DsnRet::kUnset));
    } else {
      EC_CHECK(mail.error().code >= 500);
    }
    Parsed<RcptCommand> rcpt = ParseRcptArgs(cmd.args, o);
    if (rcpt.ok()) {
      CheckMailbox(rcpt.value().recipient, esmtp);
      CheckRcptDsn(rcpt.value().dsn);
      EC_CHECK(esmtp || rcpt.value().dsn == RcptDsn{});
    }
  }
  (void)ParseBdatArgs(cmd.args);
  (void)ParseAuthArgs(cmd.args);
  Mailbox mb;
  size_t consumed = 0;
  if (ParsePath(line, PathOptions{}, &mb, &consumed) == PathError::kNone) {
    EC_CHECK(consumed <= kMaxPathLength && consumed <= line.size());
    CheckMailbox(mb, false);
  }
  return 0;
}
