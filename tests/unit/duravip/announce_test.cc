// Gratuitous ARP and unsolicited neighbour advertisement packets, byte by byte; and what
// SendAnnouncements does where no privilege is needed (loopback, unknown interfaces).
#include "duravip/announce.h"

#include <gtest/gtest.h>

namespace ec::duravip {
namespace {

const MacAddress kMac = {0x02, 0x00, 0x5e, 0x10, 0x20, 0x30};

TEST(DuravipAnnounceTest, GratuitousArpFrame) {
  const std::vector<uint8_t> frame = BuildGratuitousArp(kMac, {198, 18, 0, 100});
  const std::vector<uint8_t> want = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // Ethernet destination: broadcast
      0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // Ethernet source: the interface
      0x08, 0x06,                          // EtherType ARP
      0x00, 0x01,                          // hardware type Ethernet
      0x08, 0x00,                          // protocol type IPv4
      0x06, 0x04,                          // address lengths
      0x00, 0x01,                          // operation: request
      0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // sender MAC
      198,  18,   0,    100,               // sender IP = the VIP
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC: zero
      198,  18,   0,    100,               // target IP = the VIP
  };
  EXPECT_EQ(frame, want);
  EXPECT_EQ(frame.size(), kGratuitousArpSize);
}

TEST(DuravipAnnounceTest, UnsolicitedNeighbourAdvertisement) {
  const Ipv6Bytes target = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  const std::vector<uint8_t> message = BuildUnsolicitedNa(kMac, target);
  const std::vector<uint8_t> want = {
      136,  0,                                                              // type NA, code
      0x00, 0x00,                                                           // checksum: kernel's
      0x20, 0x00, 0x00, 0x00,                                               // flags: Override only
      0x20, 0x01, 0x0d, 0xb8, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // target address
      2,    1,                             // option: target link-layer, 8 bytes
      0x02, 0x00, 0x5e, 0x10, 0x20, 0x30,  // the interface's MAC
  };
  EXPECT_EQ(message, want);
  EXPECT_EQ(message.size(), kUnsolicitedNaSize);
  // Router (0x80) and Solicited (0x40) must be clear; Override (0x20) set.
  EXPECT_EQ(message[4] & 0xe0, 0x20);
}

TEST(DuravipAnnounceTest, UnknownInterfaceIsNotFound) {
  auto sent = SendAnnouncements(*VipAddress::Parse("198.18.0.100/24", "ecdk-nosuch0"), 1);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.status().code(), StatusCode::kNotFound);
  EXPECT_NE(sent.status().message().find("ecdk-nosuch0"), std::string::npos);
}

TEST(DuravipAnnounceTest, LoopbackHasNobodyToTell) {
  auto v4 = SendAnnouncements(*VipAddress::Parse("127.0.0.2/8", "lo"), 3);
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(*v4, 0);
  auto v6 = SendAnnouncements(*VipAddress::Parse("2001:db8::5/128", "lo"), 3);
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(*v6, 0);
}

TEST(DuravipAnnounceTest, CountMustBePositive) {
  auto sent = SendAnnouncements(*VipAddress::Parse("127.0.0.2/8", "lo"), 0);
  EXPECT_EQ(sent.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ec::duravip
