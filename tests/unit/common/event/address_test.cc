#include "common/event/address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdint>

namespace ec::event {
namespace {

TEST(SocketAddress, ParsesIpv4) {
  auto a = SocketAddress::Parse("127.0.0.2:2025");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->host(), "127.0.0.2");
  EXPECT_EQ(a->port(), 2025);
  EXPECT_EQ(a->ToString(), "127.0.0.2:2025");
}

// host() formats IPv4 by hand: it must say what inet_ntop says, for every octet value in every
// position and for addresses whose octets all differ.
TEST(SocketAddress, Ipv4HostMatchesInetNtop) {
  auto check = [](uint32_t host_order) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(host_order);
    char expected[INET_ADDRSTRLEN];
    ASSERT_NE(inet_ntop(AF_INET, &sin.sin_addr, expected, sizeof(expected)), nullptr);
    const SocketAddress a =
        SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
    EXPECT_EQ(a.host(), expected);
  };
  for (uint32_t v = 0; v < 256; ++v) {
    for (int shift : {0, 8, 16, 24}) check(v << shift);
    check(v * 0x01010101u);
  }
  uint32_t x = 12345;
  for (int i = 0; i < 10000; ++i) check(x = x * 1103515245u + 12345u);
}

TEST(SocketAddress, UnspecifiedMeansAWildcardBind) {
  for (const char* any : {"0.0.0.0:25", "[::]:25"}) {
    EXPECT_TRUE(SocketAddress::Parse(any)->is_unspecified()) << any;
  }
  for (const char* one : {"127.0.0.1:25", "[::1]:25", "0.0.0.1:25", "[::ffff:0.0.0.0]:25"}) {
    EXPECT_FALSE(SocketAddress::Parse(one)->is_unspecified()) << one;
  }
  EXPECT_FALSE(SocketAddress::Unix("/tmp/x")->is_unspecified());
  EXPECT_FALSE(SocketAddress().is_unspecified());
}

TEST(SocketAddress, ParsesBracketedIpv6) {
  auto a = SocketAddress::Parse("[::1]:25");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->host(), "::1");
  EXPECT_EQ(a->port(), 25);
  EXPECT_EQ(a->ToString(), "[::1]:25");
  auto any = SocketAddress::Parse("[::]:587");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->ToString(), "[::]:587");
}

TEST(SocketAddress, WildcardFormsMeanAnyIpv4) {
  for (const char* text : {"*:25", ":25", "0.0.0.0:25"}) {
    auto a = SocketAddress::Parse(text);
    ASSERT_TRUE(a.ok()) << text << ": " << a.status().ToString();
    EXPECT_EQ(a->family(), AF_INET) << text;
    EXPECT_EQ(a->ToString(), "0.0.0.0:25") << text;
  }
}

TEST(SocketAddress, PortZeroAndMax) {
  EXPECT_EQ(SocketAddress::Parse("127.0.0.1:0")->port(), 0);
  EXPECT_EQ(SocketAddress::Parse("127.0.0.1:65535")->port(), 65535);
}

TEST(SocketAddress, PathIsUnixSocket) {
  auto a = SocketAddress::Parse("/opt/ecmta/run/ec_console.sock");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_unix());
  EXPECT_EQ(a->port(), 0);
  EXPECT_EQ(a->ToString(), "/opt/ecmta/run/ec_console.sock");
  auto relative = SocketAddress::Parse("run/ec_console.sock");
  ASSERT_TRUE(relative.ok());
  EXPECT_TRUE(relative->is_unix());
}

TEST(SocketAddress, RejectsBadForms) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"", "empty"},
      {"127.0.0.1", "expected host:port"},
      {"127.0.0.1:", "missing port"},
      {"127.0.0.1:99999", "out of range"},
      {"127.0.0.1:25x", "must be a number"},
      {"127.0.0.1:-1", "must be a number"},
      {"127.0.0.1: 25", "must be a number"},
      {"[::1:25", "missing ']'"},
      {"[::1]25", "expected ':port'"},
      {"[127.0.0.1]:25", "not a numeric IPv6"},
      {"::1:25", "brackets"},
      {"localhost:25", "numeric"},
      {"1.2.3:25", "numeric"},
      {"256.0.0.1:25", "numeric"},
  };
  for (const Case& c : cases) {
    auto a = SocketAddress::Parse(c.text);
    ASSERT_FALSE(a.ok()) << "accepted \"" << c.text << "\"";
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(a.status().message().find(c.why), std::string::npos)
        << c.text << " -> " << a.status().message();
  }
}

TEST(SocketAddress, RejectsOverlongUnixPath) {
  auto a = SocketAddress::Parse("/" + std::string(200, 'a'));
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace ec::event
