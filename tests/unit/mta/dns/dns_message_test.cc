#include "mta/dns/dns_message.h"

#include <gtest/gtest.h>

#include "mta/dns/dns_resolver.h"

namespace ec::dns {
namespace {

std::string Name(const std::string& n) {
  std::string out;
  size_t start = 0;
  while (start <= n.size()) {
    size_t dot = n.find('.', start);
    if (dot == std::string::npos) dot = n.size();
    out.push_back(static_cast<char>(dot - start));
    out += n.substr(start, dot - start);
    start = dot + 1;
  }
  return out + std::string(1, '\0');
}

std::string U16(int v) { return {static_cast<char>(v >> 8), static_cast<char>(v & 0xff)}; }
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
  EXPECT_FALSE(ParseResponse(h + std::string("\x05" "ab", 3)).ok());     // label past the end
  std::string query = U16(1) + U16(0x0100) + U16(0) + U16(0) + U16(0) + U16(0);
  EXPECT_FALSE(ParseResponse(query).ok());  // not a response
  std::string rr = U16(1) + U16(0x8180) + U16(0) + U16(1) + U16(0) + U16(0) + std::string(1, '\0') +
                   U16(1) + U16(1) + U32(1) + U16(400);
  EXPECT_FALSE(ParseResponse(rr).ok());  // rdata past the end
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
