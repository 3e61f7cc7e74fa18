// ParseAnswer: our records from answer bytes (owner names, CNAME chains, truncation, hostile
// input), and ParseResolvConf.
#include "mta/dns/dns_answer.h"

#include <gtest/gtest.h>

#include "mta/dns/dns_resolver.h"
#include "tests/unit/mta/dns/test_dns_server.h"

namespace ec::dns {

namespace {

using testing::TestDnsServer;
std::string Name(const std::string& n) { return TestDnsServer::Name(n); }
std::string U16(int v) { return TestDnsServer::U16(static_cast<unsigned>(v)); }
std::string U32(uint32_t v) { return U16(static_cast<int>(v >> 16)) + U16(v & 0xffff); }

// A response header (id 7, NOERROR unless `flags` say otherwise) and one question.
std::string Head(const std::string& question, int type, int answers, int flags = 0x8180) {
  return U16(7) + U16(flags) + U16(1) + U16(answers) + U16(0) + U16(0) + Name(question) +
         U16(type) + U16(1);
}

// One record; `owner` in wire format (a name or a compression pointer).
std::string Rr(const std::string& owner, int type, const std::string& data, uint32_t ttl = 60) {
  return owner + U16(type) + U16(1) + U32(ttl) + U16(static_cast<int>(data.size())) + data;
}

const std::string kQuestion = U16(0xc00c);  // pointer to the question's name
std::string V4(const char* ip) {
  unsigned char b[4];
  EXPECT_EQ(::inet_pton(AF_INET, ip, b), 1);
  return std::string(reinterpret_cast<char*>(b), 4);
}

TEST(DnsAnswer, MxWithCompressionSortedByPreference) {
  std::string p = Head("Example.TEST", 15, 3);
  p += Rr(kQuestion, 15, U16(20) + Name("mx2.example.test"), 300);
  p += Rr(kQuestion, 15, U16(10) + std::string("\x03MX1", 4) + U16(0xc00c), 100);
  p += Rr(kQuestion, 1, V4("127.0.0.2"));  // not what was asked: ignored
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->question, "example.test");
  EXPECT_EQ(a->question_type, 15);
  EXPECT_EQ(a->mx, (std::vector<MxRecord>{{10, "mx1.example.test"}, {20, "mx2.example.test"}}));
  EXPECT_TRUE(a->addresses.empty());
  EXPECT_EQ(a->foreign, 0);
  EXPECT_TRUE(IsUsable(*a));
}

TEST(DnsAnswer, NullMxIsAnEmptyExchange) {
  auto a =
      ParseAnswer(Head("nomail.test", 15, 1) + Rr(kQuestion, 15, U16(0) + std::string(1, '\0')));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->mx, (std::vector<MxRecord>{{0, ""}}));
}

TEST(DnsAnswer, RecordsOfOtherOwnersAreForeignAndUnused) {
  std::string p = Head("a.test", 1, 3);
  p += Rr(kQuestion, 1, V4("192.0.2.1"));
  p += Rr(Name("evil.test"), 1, V4("192.0.2.66"));
  p += Rr(Name("other.test"), 5, Name("a.test"));  // a CNAME nobody asked about
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"192.0.2.1"}));
  EXPECT_EQ(a->foreign, 2);

  // Only foreign records: nothing usable (NODATA as far as we are concerned).
  a = ParseAnswer(Head("mx.test", 15, 1) + Rr(Name("evil.test"), 15, U16(1) + Name("evil.test")));
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->mx.empty());
  EXPECT_EQ(a->foreign, 1);
  EXPECT_FALSE(IsUsable(*a));
}

TEST(DnsAnswer, CnameChainIsFollowedInAnyOrder) {
  std::string p = Head("www.test", 1, 4);
  p += Rr(Name("target.test"), 1, V4("192.0.2.7"));  // before the CNAMEs that lead to it
  p += Rr(Name("MID.test"), 5, Name("target.test"));
  p += Rr(kQuestion, 5, Name("mid.test"));
  p += Rr(Name("elsewhere.test"), 1, V4("192.0.2.66"));
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->names, (std::vector<std::string>{"www.test", "mid.test", "target.test"}));
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"192.0.2.7"}));
  EXPECT_EQ(a->foreign, 1);
}

TEST(DnsAnswer, CnameLoopsAndLongChainsEnd) {
  std::string p = Head("a.test", 1, 2);
  p += Rr(kQuestion, 5, Name("b.test"));
  p += Rr(Name("b.test"), 5, Name("a.test"));
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->names, (std::vector<std::string>{"a.test", "b.test"}));

  const int links = kMaxCnameHops + 3;
  p = Head("c0.test", 1, links + 1);
  for (int i = 0; i < links; ++i) {
    p +=
        Rr(Name("c" + std::to_string(i) + ".test"), 5, Name("c" + std::to_string(i + 1) + ".test"));
  }
  p += Rr(Name("c" + std::to_string(links) + ".test"), 1, V4("192.0.2.9"));
  a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->names.size(), static_cast<size_t>(kMaxCnameHops) + 1);
  EXPECT_TRUE(a->addresses.empty());  // beyond the hops we follow
}

TEST(DnsAnswer, AaaaRecordsAreSixteenBytes) {
  std::string one(16, '\0');
  one[15] = 1;  // ::1
  std::string db8 = std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x05";
  std::string p = Head("v6.test", 28, 3);
  p += Rr(kQuestion, 28, one) + Rr(kQuestion, 28, db8);
  p += Rr(kQuestion, 28, std::string(4, '\1'));  // bad length: skipped
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->question_type, 28);
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"::1", "2001:db8::5"}));
  EXPECT_TRUE(IsUsable(*a));
}

TEST(DnsAnswer, TruncatedAnswerKeepsTheWholeRecordsBeforeTheCut) {
  std::string p = Head("a.test", 1, 3, 0x8380);  // TC set
  p += Rr(kQuestion, 1, V4("127.0.0.7"));
  p += kQuestion + U16(1) + U16(1) + U32(60) + U16(4) + std::string("\x7f", 1);  // cut
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(a->truncated);
  EXPECT_EQ(a->addresses, (std::vector<std::string>{"127.0.0.7"}));
  // The same bytes without TC are malformed.
  p[2] = static_cast<char>(0x81);
  EXPECT_FALSE(ParseAnswer(p).ok());
}

TEST(DnsAnswer, RcodesAreReported) {
  auto a = ParseAnswer(Head("gone.test", 15, 0, 0x8183));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->rcode, 3);
  EXPECT_FALSE(IsUsable(*a));
}

TEST(DnsAnswer, HostileInputIsAnError) {
  std::string h = U16(1) + U16(0x8180) + U16(1) + U16(0) + U16(0) + U16(0);
  EXPECT_FALSE(ParseAnswer(h.substr(0, 5)).ok());
  EXPECT_FALSE(ParseAnswer(h + U16(0xc00c) + U16(1) + U16(1)).ok());  // pointer loop
  EXPECT_FALSE(ParseAnswer(h + std::string("\x05"
                                           "ab",
                                           3))
                   .ok());                                      // label past the end
  EXPECT_FALSE(ParseAnswer(h + Name("a.test") + U16(1)).ok());  // question cut short
  std::string query =
      U16(1) + U16(0x0100) + U16(1) + U16(0) + U16(0) + U16(0) + Name("a.test") + U16(1) + U16(1);
  EXPECT_FALSE(ParseAnswer(query).ok());  // not a response
  std::string two = U16(1) + U16(0x8180) + U16(2) + U16(0) + U16(0) + U16(0);
  EXPECT_FALSE(ParseAnswer(two + Name("a.test") + U16(1) + U16(1)).ok());  // two questions
  EXPECT_FALSE(ParseAnswer(Head("a.test", 1, 1) + kQuestion + U16(1) + U16(1) + U32(1) + U16(400))
                   .ok());  // data past the end
  // An MX whose exchange runs out of its record's data: the record is skipped, the rest stands.
  std::string p = Head("m.test", 15, 2);
  p += Rr(kQuestion, 15, U16(5) + std::string("\x04mx", 3));  // 4-byte label, 2 bytes of it
  p += Rr(kQuestion, 15, U16(9) + Name("mx9.m.test"));
  auto a = ParseAnswer(p);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->mx, (std::vector<MxRecord>{{9, "mx9.m.test"}}));
}

TEST(ResolvConf, NameserversWithPortsAndOptions) {
  auto c = ParseResolvConf(
      "# test\nsearch example\nnameserver 127.0.0.1:5353\nnameserver 127.0.0.2\n"
      "nameserver ::1\noptions timeout:2 attempts:3 rotate\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->nameservers.size(), 3u);
  EXPECT_EQ(c->nameservers[0].ToString(), "127.0.0.1:5353");
  EXPECT_EQ(c->nameservers[1].ToString(), "127.0.0.2:53");
  EXPECT_EQ(c->nameservers[2].ToString(), "[::1]:53");
  EXPECT_EQ(c->timeout.count(), 2000);
  EXPECT_EQ(c->attempts, 3);
  EXPECT_FALSE(ParseResolvConf("nameserver not-an-ip\n").ok());
}

}  // namespace
}  // namespace ec::dns
