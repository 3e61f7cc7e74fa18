// Fuzzes the command-line parser and the path parser with one line of input. Invariants: no
// crash, and an accepted address respects the RFC 5321 limits and the SMTPUTF8 rule.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const Command cmd = ParseCommandLine(line);
  for (bool esmtp : {false, true}) {
    ParseOptions o;
    o.size = o.eightbitmime = o.binarymime = o.smtputf8 = o.auth = esmtp;
    o.transaction_smtputf8 = esmtp;
    Parsed<MailCommand> mail = ParseMailArgs(cmd.args, o);
    if (mail.ok())
      CheckMailbox(mail.value().sender, mail.value().smtputf8);
    else
      EC_CHECK(mail.error().code >= 500);
    Parsed<RcptCommand> rcpt = ParseRcptArgs(cmd.args, o);
    if (rcpt.ok()) CheckMailbox(rcpt.value().recipient, esmtp);
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
