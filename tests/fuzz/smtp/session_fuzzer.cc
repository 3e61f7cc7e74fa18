// Fuzzes a whole ServerSession with arbitrary client bytes, cut into reads, with TLS and stores
// completing when the session asks. Invariants: no crash, and every output line is a reply:
// three digits, then " " or "-", ending in CRLF; every stored envelope has one DSN entry per
// recipient.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/check.h"
#include "mta/smtp/session.h"
#include "tests/unit/mta/smtp/fake_hooks.h"

using namespace ec::smtp;

namespace {

void CheckReplies(const std::string& out) {
  size_t pos = 0;
  while (pos < out.size()) {
    const size_t end = out.find("\r\n", pos);
    EC_CHECK(end != std::string::npos);
    const std::string_view line(out.data() + pos, end - pos);
    EC_CHECK(line.size() >= 4);
    for (int i = 0; i < 3; ++i) EC_CHECK(line[i] >= '0' && line[i] <= '9');
    EC_CHECK(line[3] == ' ' || line[3] == '-');
    EC_CHECK(line.find('\n') == std::string_view::npos &&
             line.find('\r') == std::string_view::npos);
    pos = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto policy = std::make_shared<SessionPolicy>();
  policy->banner_hostname = "mx.example.com";
  policy->tls_available = true;
  policy->auth_available = true;
  policy->auth_requires_tls = (flags & 1) != 0;
  policy->max_message_size = (flags & 2) ? 100 : 0;
  policy->max_recipients_per_message = 3;
  policy->max_command_line_length = (flags & 4) ? 40 : 512;
  policy->lone_lf_in_body = (flags & 8) ? LineEndingPolicy::kPedantic : LineEndingPolicy::kFix;
  policy->starttls_injection =
      (flags & 16) ? StartTlsInjectionPolicy::kIgnore : StartTlsInjectionPolicy::kReject;
  policy->extensions.binarymime = true;
  policy->relay.local_domains.Add("example.com");
  ec::smtp::testing::FakeHooks hooks;
  hooks.users["alice"] = "secret";
  hooks.sync_store = (flags & 32) == 0;
  ConnectionInfo conn;
  conn.client_ip = "192.0.2.1";
  ServerSession session(policy, &hooks, conn);
  hooks.session = &session;
  const size_t step = 1 + (flags >> 6) * 7;
  while (!input.empty() && !session.WantsClose()) {
    const size_t n = std::min(step, input.size());
    session.OnBytes(input.substr(0, n));
    input.remove_prefix(n);
    // Complete whatever the session waits for, as a listener would (bounded: each round
    // consumes input or finishes).
    for (int round = 0; round < 1000 && (hooks.tls_pending || hooks.store_pending); ++round) {
      if (hooks.tls_pending) {
        hooks.tls_pending = false;
        if (!session.WantsClose())
          session.OnTlsEstablished(TlsInfo{"TLSv1.3", "X", 256, "", false});
      }
      if (hooks.store_pending) {
        hooks.store_pending = false;
        if (flags & 1) {
          session.OnMessageStored();
        } else {
          session.OnMessageStoreFailed(ec::ResourceExhausted("disk full"));
        }
      }
    }
    CheckReplies(session.TakeOutput());
  }
  if (!session.WantsClose()) session.OnIdleTimeout();
  CheckReplies(session.TakeOutput());
  for (const ReceivedMessage& m : hooks.stored) {
    EC_CHECK(m.envelope.rcpt_dsn.size() == m.envelope.rcpts.size());
  }
  EC_CHECK(session.WantsClose());
  return 0;
}
