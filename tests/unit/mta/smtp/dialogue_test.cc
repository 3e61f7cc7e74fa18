// Golden dialogues: each case in dialogues/*.txt is a scripted SMTP conversation run against a
// ServerSession with FakeHooks, and becomes its own test. Script lines:
//   === name                 starts a case
//   set key=value            policy / connection / fake settings (before the first C:)
//   C: text                  client line (CRLF added); consecutive C:/R: lines go in ONE
//                            OnBytes call, i.e. pipelined
//   R: bytes                 raw client bytes, escapes \r \n \t \\ \xHH, nothing added
//   S: text                  expected server line; consecutive S: lines must equal everything
//                            the server sent since the previous check, exactly
//   ! event                  tls, tls_fail, stored, store_fail_disk, store_fail_io, idle,
//                            total, reload
//   = check value            closed, open, stored <n>, from <addr>, rcpts <a,b>,
//                            body <escaped>, message <escaped> (headers + body), starttls <n>,
//                            discards <n> (bodies dropped: refused or aborted messages),
//                            auth <user>, protocol <p>, ret <FULL|HDRS|->, envid <xtext|->,
//                            dsn <rcpt index> <NOTIFY list|-> <ORCPT|->
// At the end of a case the server must have sent nothing unchecked.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "mta/smtp/session.h"
#include "tests/unit/mta/smtp/fake_hooks.h"

namespace ec::smtp {
namespace {

struct DialogueCase {
  std::string name;
  std::string file;
  std::vector<std::pair<int, std::string>> lines;  // (line number, text)
};

void PrintTo(const DialogueCase& c, std::ostream* os) { *os << c.file << ":" << c.name; }

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    const char e = s[++i];
    if (e == 'r') {
      out += '\r';
    } else if (e == 'n') {
      out += '\n';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += e;
    }
  }
  return out;
}

std::vector<DialogueCase> LoadCases() {
  std::vector<DialogueCase> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(EC_SMTP_DIALOGUE_DIR)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (line.rfind("=== ", 0) == 0) {
        cases.push_back(DialogueCase{line.substr(4), path.filename().string(), {}});
      } else if (!line.empty() && line[0] != '#' && !cases.empty()) {
        cases.back().lines.emplace_back(number, line);
      }
    }
  }
  return cases;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// "SUCCESS,DELAY", "NEVER" or "-" (no NOTIFY given).
std::string NotifyNames(uint8_t bits) {
  std::vector<std::string> names;
  if (bits & spool::kNotifyNever) names.push_back("NEVER");
  if (bits & spool::kNotifySuccess) names.push_back("SUCCESS");
  if (bits & spool::kNotifyFailure) names.push_back("FAILURE");
  if (bits & spool::kNotifyDelay) names.push_back("DELAY");
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "-" : out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

class Runner {
 public:
  explicit Runner(const DialogueCase& c) : case_(c) {
    policy_.banner_hostname = "mx.example.com";
    policy_.tls_available = true;
    policy_.auth_available = true;
    policy_.relay.local_domains.Add("example.com");
    conn_.client_ip = "192.0.2.10";
    conn_.client_rdns = "client.example.net";
    hooks_.users["alice"] = "secret";
  }

  void Run() {
    for (const auto& [number, text] : case_.lines) {
      line_ = number;
      const std::string kind = text.substr(0, 2);
      if (kind != "C:" && kind != "R:" && !send_.empty()) Flush();
      if (kind != "S:" && expecting_) Check();
      // "C: x", "S: x", "R: x" / "! x", "= x".
      const size_t skip = (kind == "! " || kind == "= ") ? 2 : 3;
      const std::string arg = text.size() > skip ? text.substr(skip) : "";
      if (kind == "C:") {
        Start();
        send_ += arg + "\r\n";
      } else if (kind == "R:") {
        Start();
        send_ += Unescape(arg);
      } else if (kind == "S:") {
        Start();
        expect_ += arg + "\r\n";
        expecting_ = true;
      } else if (text.rfind("set ", 0) == 0) {
        ASSERT_EQ(session_, nullptr) << Where() << "set after the session started";
        Set(text.substr(4));
      } else if (kind == "! ") {
        Start();
        Event(arg);
      } else if (kind == "= ") {
        Start();
        Expect(arg);
      } else {
        FAIL() << Where() << "bad script line: " << text;
      }
    }
    if (!send_.empty()) Flush();
    if (expecting_) Check();
    Start();
    EXPECT_EQ(session_->TakeOutput(), "") << Where() << "unchecked server output at the end";
  }

 private:
  std::string Where() const { return case_.file + ":" + std::to_string(line_) + ": "; }

  void Start() {
    if (session_) return;
    auto policy = std::make_shared<const SessionPolicy>(policy_);
    session_ = std::make_unique<ServerSession>(policy, &hooks_, conn_);
    hooks_.session = session_.get();
  }

  void Flush() {
    session_->OnBytes(send_);
    send_.clear();
  }

  void Check() {
    EXPECT_EQ(session_->TakeOutput(), expect_) << Where() << "server output differs";
    expect_.clear();
    expecting_ = false;
  }

  void Set(const std::string& kv) {
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    auto num = [&] { return static_cast<size_t>(std::stoull(value)); };
    const bool yes = value == "true";
    if (key == "tls_available")
      policy_.tls_available = yes;
    else if (key == "auth_available")
      policy_.auth_available = yes;
    else if (key == "auth_requires_tls")
      policy_.auth_requires_tls = yes;
    else if (key == "max_message_size")
      policy_.max_message_size = num();
    else if (key == "max_recipients")
      policy_.max_recipients_per_message = num();
    else if (key == "max_receptions")
      policy_.max_receptions_per_connection = num();
    else if (key == "max_command_line")
      policy_.max_command_line_length = num();
    else if (key == "max_errors")
      policy_.max_errors = num();
    else if (key == "max_junk_commands")
      policy_.max_junk_commands = num();
    else if (key == "max_storable_size")
      policy_.max_storable_size = num();
    else if (key == "recipient_ceiling")
      policy_.recipient_ceiling = num();
    else if (key == "require_ehlo")
      policy_.require_ehlo = yes;
    else if (key == "allow_null_sender")
      policy_.allow_null_envelope_sender = yes;
    else if (key == "allow_ip_literal")
      policy_.allow_ip_literal = yes;
    else if (key == "open_relay")
      policy_.relay.open_relay = yes;
    else if (key == "relay_hosts") {
      auto set = net::CidrSet::Parse(Split(value, ','));
      ASSERT_TRUE(set.ok()) << set.status().ToString();
      policy_.relay.relay_hosts = *set;
    } else if (key == "relay_domains")
      policy_.relay.relay_domains = DomainPatternList(Split(value, ','));
    else if (key == "local_domains")
      policy_.relay.local_domains = DomainPatternList(Split(value, ','));
    else if (key == "lone_lf")
      policy_.lone_lf_in_body =
          value == "pedantic" ? LineEndingPolicy::kPedantic : LineEndingPolicy::kFix;
    else if (key == "max_line_length")
      policy_.max_line_length = num();
    else if (key == "max_header_line_length")
      policy_.max_header_line_length = num();
    else if (key == "date_header")
      policy_.date_header = value == "pedantic" ? DateHeaderPolicy::kPedantic
                            : value == "ignore" ? DateHeaderPolicy::kIgnore
                                                : DateHeaderPolicy::kIfNeeded;
    else if (key == "messageid_header")
      policy_.messageid_header =
          value == "ignore" ? MessageIdPolicy::kIgnore : MessageIdPolicy::kIfNeeded;
    else if (key == "trace_headers")
      policy_.trace_headers = yes;
    else if (key == "starttls_injection")
      policy_.starttls_injection =
          value == "ignore" ? StartTlsInjectionPolicy::kIgnore : StartTlsInjectionPolicy::kReject;
    else if (key == "extensions") {
      auto ext =
          ParseSmtpExtensions(value == "none" ? std::vector<std::string>() : Split(value, ','));
      ASSERT_TRUE(ext.ok()) << ext.status().ToString();
      policy_.extensions = *ext;
    } else if (key == "static_banner")
      policy_.static_banner = value;
    else if (key == "reconfig_message")
      policy_.reconfig_message = value;
    else if (key == "received_hostname")
      policy_.received_hostname = value;
    else if (key == "client_ip")
      conn_.client_ip = value;
    else if (key == "client_rdns")
      conn_.client_rdns = value;
    else if (key == "tls_on_connect")
      conn_.tls_on_connect = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", 128, "", false};
    else if (key == "store")
      hooks_.sync_store = value != "async";
    else if (key == "auth_tempfail")
      hooks_.auth_tempfail = yes;
    else
      FAIL() << Where() << "unknown setting " << key;
  }

  void Event(const std::string& e) {
    if (e == "tls")
      session_->OnTlsEstablished(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "", false});
    else if (e == "tls_fail")
      session_->OnTlsFailed();
    else if (e == "stored")
      session_->OnMessageStored();
    else if (e == "store_fail_disk")
      session_->OnMessageStoreFailed(ResourceExhausted("disk full"));
    else if (e == "store_fail_io")
      session_->OnMessageStoreFailed(Internal("io"));
    else if (e == "idle")
      session_->OnIdleTimeout();
    else if (e == "total")
      session_->OnTotalTimeout();
    else if (e == "reload")
      session_->OnConfigReloaded();
    else
      FAIL() << Where() << "unknown event " << e;
  }

  void Expect(const std::string& check) {
    const size_t sp = check.find(' ');
    const std::string what = check.substr(0, sp);
    const std::string value = sp == std::string::npos ? "" : check.substr(sp + 1);
    const testing::StoredMessage* last = hooks_.stored.empty() ? nullptr : &hooks_.stored.back();
    if (what == "closed") {
      EXPECT_TRUE(session_->WantsClose()) << Where();
    } else if (what == "open") {
      EXPECT_FALSE(session_->WantsClose()) << Where();
    } else if (what == "stored") {
      EXPECT_EQ(hooks_.stored.size(), std::stoul(value)) << Where();
    } else if (what == "discards") {
      EXPECT_EQ(hooks_.sink.discards, std::stoi(value)) << Where();
    } else if (what == "starttls") {
      EXPECT_EQ(hooks_.starttls_calls, std::stoi(value)) << Where();
    } else if (what == "auth") {
      EXPECT_EQ(session_->auth_user(), value) << Where();
    } else if (last == nullptr) {
      FAIL() << Where() << "no message stored";
    } else if (what == "from") {
      EXPECT_EQ(last->envelope.mail_from, value == "<>" ? "" : value) << Where();
    } else if (what == "rcpts") {
      EXPECT_EQ(Join(last->envelope.rcpts), value) << Where();
    } else if (what == "protocol") {
      EXPECT_EQ(last->envelope.protocol, value) << Where();
    } else if (what == "ret") {
      const spool::DsnRet ret = last->envelope.dsn_ret;
      EXPECT_EQ(ret == spool::DsnRet::kFull      ? "FULL"
                : ret == spool::DsnRet::kHeaders ? "HDRS"
                                                 : "-",
                value)
          << Where();
    } else if (what == "envid") {
      EXPECT_EQ(last->envelope.dsn_envid, value == "-" ? "" : value) << Where();
    } else if (what == "dsn") {
      const std::vector<std::string> f = Split(value, ' ');
      ASSERT_EQ(f.size(), 3u) << Where() << "dsn <index> <notify> <orcpt>";
      const size_t i = std::stoul(f[0]);
      ASSERT_EQ(last->envelope.rcpt_dsn.size(), last->envelope.rcpts.size()) << Where();
      ASSERT_LT(i, last->envelope.rcpt_dsn.size()) << Where();
      EXPECT_EQ(NotifyNames(last->envelope.rcpt_dsn[i].notify), f[1]) << Where();
      EXPECT_EQ(last->envelope.rcpt_dsn[i].orcpt, f[2] == "-" ? "" : f[2]) << Where();
    } else if (what == "body") {
      EXPECT_EQ(last->body, Unescape(value)) << Where();
    } else if (what == "message") {
      EXPECT_EQ(last->headers + last->body, Unescape(value)) << Where();
    } else {
      FAIL() << Where() << "unknown check " << what;
    }
  }

  const DialogueCase& case_;
  SessionPolicy policy_;
  ConnectionInfo conn_;
  testing::FakeHooks hooks_;
  std::unique_ptr<ServerSession> session_;
  std::string send_, expect_;
  bool expecting_ = false;
  int line_ = 0;
};

class SmtpDialogueTest : public ::testing::TestWithParam<DialogueCase> {};

TEST_P(SmtpDialogueTest, Run) {
  Runner runner(GetParam());
  runner.Run();
}

INSTANTIATE_TEST_SUITE_P(Golden, SmtpDialogueTest, ::testing::ValuesIn(LoadCases()),
                         [](const ::testing::TestParamInfo<DialogueCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ec::smtp
