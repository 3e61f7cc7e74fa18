// VipAddress parsing: canonical forms, and everything that cannot be a service address.
#include "duravip/vip_address.h"

#include <gtest/gtest.h>

namespace ec::duravip {
namespace {

TEST(DuravipVipAddressTest, ParsesIpv4) {
  auto vip = VipAddress::Parse("198.18.0.100/24", "eth1");
  ASSERT_TRUE(vip.ok()) << vip.status().ToString();
  EXPECT_EQ(vip->ip, "198.18.0.100");
  EXPECT_EQ(vip->prefix, 24);
  EXPECT_EQ(vip->interface, "eth1");
  EXPECT_FALSE(vip->is_v6());
  EXPECT_EQ(vip->Cidr(), "198.18.0.100/24");
  EXPECT_EQ(vip->ToString(), "198.18.0.100/24 dev eth1");
}

TEST(DuravipVipAddressTest, CanonicalisesIpv6) {
  auto vip = VipAddress::Parse("2001:DB8:0:0:0:0:0:1/64", "eth0");
  ASSERT_TRUE(vip.ok()) << vip.status().ToString();
  EXPECT_EQ(vip->ip, "2001:db8::1");
  EXPECT_TRUE(vip->is_v6());
  EXPECT_EQ(vip->ToString(), "2001:db8::1/64 dev eth0");
  // Two spellings of one address are one address.
  EXPECT_EQ(*vip, *VipAddress::Parse("2001:db8::0:1/64", "eth0"));
  EXPECT_NE(*vip, *VipAddress::Parse("2001:db8::1/128", "eth0"));
}

TEST(DuravipVipAddressTest, PrefixBounds) {
  EXPECT_TRUE(VipAddress::Parse("198.18.0.1/32", "e").ok());
  EXPECT_TRUE(VipAddress::Parse("198.18.0.1/1", "e").ok());
  EXPECT_TRUE(VipAddress::Parse("2001:db8::1/128", "e").ok());
  for (const char* bad : {"198.18.0.1/33", "198.18.0.1/0", "2001:db8::1/129", "198.18.0.1/",
                          "198.18.0.1/-1", "198.18.0.1/+8", "198.18.0.1/024", "198.18.0.1/2 4",
                          "198.18.0.1/x", "198.18.0.1/99999999999999999999"}) {
    auto vip = VipAddress::Parse(bad, "eth0");
    EXPECT_FALSE(vip.ok()) << bad;
    EXPECT_EQ(vip.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(VipAddress::Parse("198.18.0.1/33", "e").status().message().find("1..32"),
            std::string::npos);
}

TEST(DuravipVipAddressTest, RejectsWhatCannotBeAServiceAddress) {
  for (const char* bad :
       {"198.18.0.1", "0.0.0.0/8", "255.255.255.255/32", "224.0.0.1/32", "239.1.2.3/24", "::/64",
        "ff02::1/64", "::ffff:198.18.0.1/96", "fe80::1/64", "fe80::1%eth0/64", "198.18.0/24",
        "198.018.0.1/24", "1.2.3.4.5/24", "host.example/24", "/24", "", "[2001:db8::1]/64",
        " 198.18.0.1/24"}) {
    EXPECT_FALSE(VipAddress::Parse(bad, "eth0").ok()) << bad;
  }
  const std::string long_ip(100, '1');
  EXPECT_FALSE(VipAddress::Parse(long_ip + "/24", "eth0").ok());
}

TEST(DuravipVipAddressTest, InterfaceNames) {
  EXPECT_TRUE(ValidateInterfaceName("eth0").ok());
  EXPECT_TRUE(ValidateInterfaceName("ecdk-0123456789").ok());  // 15 bytes
  EXPECT_TRUE(ValidateInterfaceName("br-lan.10").ok());
  for (const char* bad :
       {"", ".", "..", "ecdk-01234567890", "eth0:1", "a/b", "a b", "a\tb", "a\nb", "caf\xc3\xa9"}) {
    EXPECT_FALSE(ValidateInterfaceName(bad).ok()) << bad;
    EXPECT_FALSE(VipAddress::Parse("198.18.0.1/24", bad).ok()) << bad;
  }
}

TEST(DuravipVipAddressTest, ParseTextRoundTrips) {
  for (const char* text : {"198.18.0.100/24 dev eth1", "2001:db8::1/64 dev lo"}) {
    auto vip = VipAddress::ParseText(text);
    ASSERT_TRUE(vip.ok()) << vip.status().ToString();
    EXPECT_EQ(vip->ToString(), text);
  }
  EXPECT_FALSE(VipAddress::ParseText("198.18.0.100/24 eth1").ok());
  EXPECT_FALSE(VipAddress::ParseText("198.18.0.100/24 dev ").ok());
}

TEST(DuravipVipAddressTest, ErrorsQuoteHostileInputSafely) {
  auto vip = VipAddress::Parse(std::string("1\n2\x01/24"), "eth0");
  ASSERT_FALSE(vip.ok());
  EXPECT_EQ(vip.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(vip.status().message().find('\x01'), std::string::npos);
}

}  // namespace
}  // namespace ec::duravip
