#include "mta/dns/dns_message.h"

#include <gtest/gtest.h>

#include "mta/dns/dns_resolver.h"
#include "mta/dns/dns_tcp.h"
#include "tests/unit/mta/dns/test_dns_server.h"

namespace ec::dns {
namespace {

using testing::TestDnsServer;
std::string Name(const std::string& n) { return TestDnsServer::Name(n); }
std::string U16(int v) { return TestDnsServer::U16(static_cast<unsigned>(v)); }
std::string U32(uint32_t v) { return U16(v >> 16) + U16(v & 0xffff); }

TEST(DnsMessage, QueryRoundTripsThroughTheParserAsAResponse) {
  auto q = BuildQuery(0x1234, "Example.TEST.", RecordType::kMx);
  ASSERT_TRUE(q.ok());
  std::string resp = *q;
  resp[2] = static_cast<char>(0x81);  // QR + RD
  resp[3] = static_cast<char>(0x80);
  auto r = ParseResponse(resp);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, 0x1234);
  EXPECT_EQ(r->question, "example.test");
  EXPECT_EQ(r->question_type, 15);
  EXPECT_TRUE(r->mx.empty());
  EXPECT_FALSE(BuildQuery(1, "a..b", RecordType::kA).ok());
  EXPECT_FALSE(BuildQuery(1, std::string(64, 'a') + ".b", RecordType::kA).ok());
}

TEST(DnsMessage, MxWithCompressionSortedByPreference) {
  std::string p = U16(7) + U16(0x8180) + U16(1) + U16(3) + U16(0) + U16(0);
  p += Name("example.test") + U16(15) + U16(1);
  std::string mx1 = U16(20) + Name("mx2.example.test");
  p += U16(0xc00c) + U16(15) + U16(1) + U32(300) + U16(static_cast<int>(mx1.size())) + mx1;
  std::string mx2 = U16(10) + std::string("\x03mx1", 4) + U16(0xc00c);
  p += U16(0xc00c) + U16(15) + U16(1) + U32(100) + U16(static_cast<int>(mx2.size())) + mx2;
  p += U16(0xc00c) + U16(1) + U16(1) + U32(50) + U16(4) + std::string("\x7f\x00\x00\x02", 4);
  auto r = ParseResponse(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->mx.size(), 2u);
  EXPECT_EQ(r->mx[0], (MxRecord{10, "mx1.example.test"}));
  EXPECT_EQ(r->mx[1], (MxRecord{20, "mx2.example.test"}));
  ASSERT_EQ(r->addresses.size(), 1u);
  EXPECT_EQ(r->addresses[0], "127.0.0.2");
  EXPECT_EQ(r->min_ttl, 50u);
}

TEST(DnsMessage, HostileInputIsAnError) {
  std::string h = U16(1) + U16(0x8180) + U16(1) + U16(0) + U16(0) + U16(0);
  EXPECT_FALSE(ParseResponse(h.substr(0, 5)).ok());
  EXPECT_FALSE(ParseResponse(h + U16(0xc00c) + U16(1) + U16(1)).ok());  // pointer loop
  EXPECT_FALSE(ParseResponse(h + std::string("\x05"
                                             "ab",
                                             3))
                   .ok());  // label past the end
  std::string query = U16(1) + U16(0x0100) + U16(0) + U16(0) + U16(0) + U16(0);
  EXPECT_FALSE(ParseResponse(query).ok());  // not a response
  std::string rr = U16(1) + U16(0x8180) + U16(0) + U16(1) + U16(0) + U16(0) + std::string(1, '\0') +
                   U16(1) + U16(1) + U32(1) + U16(400);
  EXPECT_FALSE(ParseResponse(rr).ok());  // rdata past the end
}

TEST(DnsMessage, AaaaRecordsAreSixteenBytes) {
  std::string p = U16(9) + U16(0x8180) + U16(1) + U16(3) + U16(0) + U16(0);
  p += Name("v6.test") + U16(28) + U16(1);
  std::string one(16, '\0');
  one[15] = 1;  // ::1
  std::string db8 = std::string("\x20\x01\x0d\xb8", 4) + std::string(11, '\0') + "\x05";
  p += U16(0xc00c) + U16(28) + U16(1) + U32(60) + U16(16) + one;
  p += U16(0xc00c) + U16(28) + U16(1) + U32(30) + U16(16) + db8;
  p += U16(0xc00c) + U16(28) + U16(1) + U32(10) + U16(4) + std::string(4, '\1');  // bad length
  auto r = ParseResponse(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->question_type, 28);
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"::1", "2001:db8::5"}));
  EXPECT_EQ(r->min_ttl, 30u);  // the ignored record does not count
  EXPECT_TRUE(IsUsable(*r, RecordType::kAaaa));
  EXPECT_FALSE(IsUsable(*r, RecordType::kMx));
}

TEST(DnsMessage, TruncatedAnswerKeepsTheWholeRecordsBeforeTheCut) {
  std::string h = U16(3) + U16(0x8380) + U16(1) + U16(3) + U16(0) + U16(0);  // TC set
  std::string p = h + Name("a.test") + U16(1) + U16(1);
  p += U16(0xc00c) + U16(1) + U16(1) + U32(60) + U16(4) + std::string("\x7f\x00\x00\x07", 4);
  p += U16(0xc00c) + U16(1) + U16(1) + U32(60) + U16(4) + std::string("\x7f", 1);  // cut
  auto r = ParseResponse(p);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"127.0.0.7"}));
  // The same bytes without TC are malformed.
  p[2] = static_cast<char>(0x81);
  EXPECT_FALSE(ParseResponse(p).ok());
}

TEST(DnsTcp, FramesAreSplitAcrossReadsAndJoinedInOne) {
  auto f = FrameForTcp("hello");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, std::string("\0\5hello", 7));
  EXPECT_FALSE(FrameForTcp(std::string(70000, 'x')).ok());

  TcpFrameReader reader;
  EXPECT_FALSE(reader.Next().has_value());
  reader.Append(std::string("\0", 1));
  EXPECT_FALSE(reader.Next().has_value());
  reader.Append(std::string("\3ab", 3));
  EXPECT_FALSE(reader.Next().has_value());
  reader.Append(std::string("c\0\0\0\2xy\1", 8));  // "abc", an empty frame, "xy", 1 byte more
  EXPECT_EQ(reader.Next(), std::optional<std::string>("abc"));
  EXPECT_EQ(reader.Next(), std::optional<std::string>(""));
  EXPECT_EQ(reader.Next(), std::optional<std::string>("xy"));
  EXPECT_FALSE(reader.Next().has_value());
  EXPECT_EQ(reader.buffered(), 1u);
  // A 65535-byte frame announced, then fed slowly: nothing until the last byte.
  TcpFrameReader big;
  big.Append(std::string("\xff\xff", 2));
  for (int i = 0; i < 65534; i += 4096) {
    big.Append(std::string(static_cast<size_t>(std::min(4096, 65534 - i)), 'z'));
    EXPECT_FALSE(big.Next().has_value());
  }
  big.Append("z");
  auto m = big.Next();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->size(), 65535u);
  EXPECT_EQ(big.buffered(), 0u);
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
