// IP addresses and CIDR ranges: parsing, matching (IPv4-mapped clients too), most-specific lookup.
#include "common/net/cidr.h"

#include <gtest/gtest.h>

namespace ec::net {
namespace {

TEST(CidrTest, ParseAndMatchIpv4) {
  Result<Cidr> c = Cidr::Parse("10.1.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "10.1.0.0/16");
  EXPECT_TRUE(c->Contains(*IpAddress::Parse("10.1.255.3")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("10.2.0.1")));
  EXPECT_TRUE(c->Contains(*IpAddress::Parse("::ffff:10.1.2.3")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("2001:db8::1")));
  EXPECT_TRUE(Cidr::Parse("192.0.2.7")->Contains(*IpAddress::Parse("192.0.2.7")));
  EXPECT_FALSE(Cidr::Parse("192.0.2.7")->Contains(*IpAddress::Parse("192.0.2.8")));
  EXPECT_TRUE(Cidr::Parse("192.0.2.0/25")->Contains(*IpAddress::Parse("192.0.2.127")));
  EXPECT_FALSE(Cidr::Parse("192.0.2.0/25")->Contains(*IpAddress::Parse("192.0.2.128")));
  // 0.0.0.0/0 is every IPv4 client but no IPv6 one.
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("203.0.113.9")));
  EXPECT_FALSE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("2001:db8::1")));
}

TEST(CidrTest, ParseAndMatchIpv6) {
  Result<Cidr> c = Cidr::Parse("2001:db8::/33");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(*IpAddress::Parse("2001:db8:7fff::1")));
  EXPECT_FALSE(c->Contains(*IpAddress::Parse("2001:db8:8000::1")));
  EXPECT_TRUE(Cidr::Parse("::1")->Contains(*IpAddress::Parse("[::1]")));
  EXPECT_EQ(Cidr::Parse("::1")->prefix_length(), 128);
}

TEST(CidrTest, BadInput) {
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0.1/8", "300.0.0.0",
                          "2001:db8::/129", "host.example", "10.0.0.0/-1"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
  Result<CidrSet> set = CidrSet::Parse({"10.0.0.0/8", "nonsense"});
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.status().message().find("nonsense"), std::string::npos);
}

TEST(CidrTest, MostSpecificWins) {
  Result<CidrSet> set = CidrSet::Parse({"10.0.0.0/8", "10.1.0.0/16", "0.0.0.0/0"});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->MostSpecific(*IpAddress::Parse("10.1.2.3")), 1u);
  EXPECT_EQ(set->MostSpecific(*IpAddress::Parse("10.2.2.3")), 0u);
  EXPECT_EQ(set->MostSpecific(*IpAddress::Parse("192.0.2.1")), 2u);
  EXPECT_FALSE(set->MostSpecific(*IpAddress::Parse("::1")).has_value());
  EXPECT_FALSE(set->Contains("not an ip"));
  EXPECT_FALSE(set->Contains(std::string_view("10.1.2.3\0junk", 13)));
}

}  // namespace
}  // namespace ec::net
