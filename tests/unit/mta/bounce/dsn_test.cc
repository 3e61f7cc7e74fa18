#include "mta/bounce/dsn.h"

#include <gtest/gtest.h>

#include <map>
#include <string_view>

namespace ec::bounce {
namespace {

DsnInput Input() {
  DsnInput in;
  in.reporting_mta = "mta.example.net";
  in.from = "mailer-daemon@mta.example.net";
  in.to = "sender@example.org";
  in.queue_id = "0005F3A2B1C4D00A";
  in.envid = "ENV1";
  in.arrival = 1700000000;
  in.now = 1700000100;
  in.recipients.push_back({.address = "gone@example.com",
                           .orcpt = "rfc822;gone@example.com",
                           .status = "5.1.1",
                           .diagnostic = "550 5.1.1 no such user\r\nInjected: x",
                           .remote_mta = "127.0.0.2"});
  in.original = "Subject: hello\r\nMessage-ID: <m1@x>\r\n\r\nsecret body\r\n";
  in.boundary = "BOUNDARY";
  return in;
}

TEST(Dsn, Rfc3464Structure) {
  std::string m = BuildDsn(Input());
  EXPECT_NE(m.find("Content-Type: multipart/report; report-type=delivery-status;"),
            std::string::npos);
  EXPECT_NE(m.find("boundary=\"BOUNDARY\""), std::string::npos);
  EXPECT_NE(
      m.find(
          "--BOUNDARY\r\nContent-Description: Delivery report\r\n"
          "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mta.example.net\r\n"),
      std::string::npos);
  EXPECT_NE(m.find("Original-Envelope-Id: ENV1\r\n"), std::string::npos);
  EXPECT_NE(m.find("Final-Recipient: rfc822; gone@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("Original-Recipient: rfc822;gone@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("Action: failed\r\nStatus: 5.1.1\r\n"), std::string::npos);
  EXPECT_NE(m.find("Diagnostic-Code: smtp; 550 5.1.1 no such user  Injected: x\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/rfc822-headers\r\n\r\nSubject: hello\r\n"),
            std::string::npos);
  EXPECT_EQ(m.find("secret body"), std::string::npos);
  EXPECT_EQ(m.find("\r\nInjected:"), std::string::npos);  // no header injection
  EXPECT_NE(m.find("\r\n--BOUNDARY--\r\n"), std::string::npos);
  EXPECT_EQ(m.substr(0, 6), "From: ");
  // Every line ends in CRLF.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << i;
    }
  }
}

TEST(Dsn, IncludeAllOrNone) {
  DsnInput in = Input();
  in.include = Include::kAll;
  EXPECT_NE(BuildDsn(in).find("message/rfc822\r\n\r\nSubject: hello"), std::string::npos);
  EXPECT_NE(BuildDsn(in).find("secret body"), std::string::npos);
  in.include = Include::kNone;
  EXPECT_EQ(BuildDsn(in).find("Subject: hello"), std::string::npos);
}

TEST(Dsn, BounceClasses) {
  EXPECT_EQ(BounceClass(550, "5.1.1", "no such user", false), 10);
  EXPECT_EQ(BounceClass(552, "5.2.2", "mailbox full", false), 22);
  EXPECT_EQ(BounceClass(554, "5.7.1", "Relay access denied", false), 54);
  EXPECT_EQ(BounceClass(554, "5.7.1", "policy", false), 50);
  EXPECT_EQ(BounceClass(451, "4.4.1", "timeout", true), 24);
  EXPECT_EQ(BounceClass(550, "", "User unknown", false), 10);
  EXPECT_EQ(BounceClass(554, "", "whatever", false), 40);
}

// ---- A small MIME reader, to check the reports' structure rather than substrings ----

using Fields = std::multimap<std::string, std::string>;

struct Part {
  Fields headers;
  std::string body;
};

// "Name: value" lines up to the first empty line (folded lines joined); *rest gets what
// follows.
Fields ParseFields(std::string_view text, std::string* rest) {
  Fields f;
  std::string last;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = std::min(text.size(), eol + 2);
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !last.empty()) {
      auto it = f.upper_bound(last);
      (--it)->second += " " + std::string(line.substr(1));
      continue;
    }
    size_t colon = line.find(':');
    EXPECT_NE(colon, std::string_view::npos) << line;
    if (colon == std::string_view::npos) continue;
    last = std::string(line.substr(0, colon));
    size_t v = line.find_first_not_of(' ', colon + 1);
    f.emplace(last, v == std::string_view::npos ? "" : std::string(line.substr(v)));
  }
  if (rest) *rest = std::string(text.substr(pos));
  return f;
}

std::string One(const Fields& f, const std::string& name) {
  EXPECT_EQ(f.count(name), 1u) << name;
  auto it = f.find(name);
  return it == f.end() ? "" : it->second;
}

// The top-level headers and the parts of a multipart message.
struct Mime {
  Fields headers;
  std::vector<Part> parts;
  bool closed = false;  // the closing delimiter was there
};

Mime ParseMime(const std::string& m) {
  Mime out;
  std::string body;
  out.headers = ParseFields(m, &body);
  std::string type = One(out.headers, "Content-Type");
  size_t b = type.find("boundary=\"");
  EXPECT_NE(b, std::string::npos) << type;
  if (b == std::string::npos) return out;
  std::string boundary = type.substr(b + 10, type.find('"', b + 10) - b - 10);
  const std::string delim = "\r\n--" + boundary;
  body = "\r\n" + body;
  size_t pos = body.find(delim);
  while (pos != std::string::npos) {
    size_t start = pos + delim.size();
    if (body.compare(start, 2, "--") == 0) {
      out.closed = true;
      break;
    }
    start += 2;  // CRLF after the delimiter
    size_t next = body.find(delim, start);
    if (next == std::string::npos) break;
    Part p;
    p.headers = ParseFields(body.substr(start, next - start), &p.body);
    out.parts.push_back(std::move(p));
    pos = next;
  }
  return out;
}

// The per-message group and the per-recipient groups of a message/delivery-status body.
std::vector<Fields> StatusGroups(const std::string& body) {
  std::vector<Fields> groups;
  std::string rest = body;
  while (!rest.empty() && rest != "\r\n") {
    std::string next;
    Fields f = ParseFields(rest, &next);
    if (!f.empty()) groups.push_back(std::move(f));
    if (next.size() >= rest.size()) break;
    rest = next;
  }
  return groups;
}

DsnInput RelayedInput() {
  DsnInput in = Input();
  in.envid = "ENV+2B1+20x";  // xtext: "ENV+1 x"
  in.recipients.clear();
  in.recipients.push_back({.address = "far@example.com",
                           .orcpt = "rfc822;far+2Bbox@example.com",
                           .diagnostic = "250 2.0.0 queued as ABC",
                           .remote_mta = "127.0.0.2"});
  in.recipients.push_back({.address = "near@example.com", .remote_mta = "127.0.0.2"});
  in.include = Include::kAll;  // RET=FULL: still headers only in a success report
  return in;
}

TEST(RelayedDsn, MimeStructure) {
  Mime m = ParseMime(BuildRelayedDsn(RelayedInput()));
  EXPECT_TRUE(m.closed);
  EXPECT_EQ(One(m.headers, "Subject"), "Successful Mail Delivery Report");
  EXPECT_EQ(One(m.headers, "To"), "<sender@example.org>");
  EXPECT_EQ(One(m.headers, "Auto-Submitted"), "auto-replied");
  EXPECT_EQ(One(m.headers, "Content-Type"),
            "multipart/report; report-type=delivery-status; boundary=\"BOUNDARY\"");
  ASSERT_EQ(m.parts.size(), 3u);

  EXPECT_EQ(One(m.parts[0].headers, "Content-Type"), "text/plain; charset=us-ascii");
  EXPECT_NE(m.parts[0].body.find("<far@example.com>: relayed to 127.0.0.2"), std::string::npos)
      << m.parts[0].body;
  EXPECT_EQ(m.parts[0].body.find("could not be delivered"), std::string::npos);

  EXPECT_EQ(One(m.parts[1].headers, "Content-Type"), "message/delivery-status");
  std::vector<Fields> groups = StatusGroups(m.parts[1].body);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(One(groups[0], "Reporting-MTA"), "dns; mta.example.net");
  EXPECT_EQ(One(groups[0], "Original-Envelope-Id"), "ENV+1 x");  // decoded from xtext
  EXPECT_EQ(One(groups[1], "Final-Recipient"), "rfc822; far@example.com");
  EXPECT_EQ(One(groups[1], "Original-Recipient"), "rfc822;far+box@example.com");
  EXPECT_EQ(One(groups[1], "Action"), "relayed");
  EXPECT_EQ(One(groups[1], "Status"), "2.0.0");
  EXPECT_EQ(One(groups[1], "Remote-MTA"), "dns; 127.0.0.2");
  EXPECT_EQ(One(groups[1], "Diagnostic-Code"), "smtp; 250 2.0.0 queued as ABC");
  EXPECT_EQ(One(groups[2], "Final-Recipient"), "rfc822; near@example.com");
  EXPECT_EQ(groups[2].count("Original-Recipient"), 0u);
  EXPECT_EQ(One(groups[2], "Action"), "relayed");
  EXPECT_EQ(One(groups[2], "Status"), "2.0.0");

  EXPECT_EQ(One(m.parts[2].headers, "Content-Type"), "text/rfc822-headers");
  EXPECT_EQ(m.parts[2].body, "Subject: hello\r\nMessage-ID: <m1@x>\r\n\r\n");
}

TEST(RelayedDsn, IncludeNoneAndHeaders) {
  DsnInput in = RelayedInput();
  in.include = Include::kNone;
  Mime none = ParseMime(BuildRelayedDsn(in));
  EXPECT_TRUE(none.closed);
  EXPECT_EQ(none.parts.size(), 2u);
  in.include = Include::kHeaders;
  std::string headers = BuildRelayedDsn(in);
  EXPECT_EQ(headers.find("secret body"), std::string::npos);
  EXPECT_EQ(ParseMime(headers).parts.size(), 3u);
}

TEST(RelayedDsn, MixedReportSaysFailureAndKeepsEachAction) {
  DsnInput in = RelayedInput();
  in.recipients[1].action = Action::kFailed;
  in.recipients[1].status = "5.1.1";
  in.recipients[0].action = Action::kRelayed;
  Mime m = ParseMime(BuildDsn(in));
  EXPECT_EQ(One(m.headers, "Subject"), "Undelivered Mail Returned to Sender");
  std::vector<Fields> groups = StatusGroups(m.parts[1].body);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(One(groups[1], "Action"), "relayed");
  EXPECT_EQ(One(groups[2], "Action"), "failed");
  EXPECT_EQ(One(groups[2], "Status"), "5.1.1");
  EXPECT_NE(m.parts[0].body.find("could not be delivered"), std::string::npos);
  EXPECT_NE(m.parts[0].body.find("relayed to 127.0.0.2"), std::string::npos);
}

TEST(RelayedDsn, HostileValuesStayInTheirFields) {
  DsnInput in = RelayedInput();
  in.envid = "E+0D+0AX-Injected:+201";  // decodes to a CRLF: must not start a new field
  in.recipients[0].orcpt = "rfc822;a+0D+0A+0D+0A--BOUNDARY--@x";
  std::string text = BuildRelayedDsn(in);
  Mime m = ParseMime(text);
  EXPECT_TRUE(m.closed);
  ASSERT_EQ(m.parts.size(), 3u);
  std::vector<Fields> groups = StatusGroups(m.parts[1].body);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].count("X-Injected"), 0u);
  // Decoding would give control bytes: the field keeps the xtext form.
  EXPECT_EQ(One(groups[0], "Original-Envelope-Id"), "E+0D+0AX-Injected:+201");
  EXPECT_EQ(One(groups[1], "Original-Recipient"), "rfc822;a+0D+0A+0D+0A--BOUNDARY--@x");
  EXPECT_EQ(text.find("\r\n--BOUNDARY--@x"), std::string::npos);
  in.envid = "raw\r\nnot xtext\xff";  // a store that kept it decoded: shown encoded
  groups = StatusGroups(ParseMime(BuildRelayedDsn(in)).parts[1].body);
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(One(groups[0], "Original-Envelope-Id"), "raw+0D+0Anot+20xtext+FF");
}

}  // namespace
}  // namespace ec::bounce
