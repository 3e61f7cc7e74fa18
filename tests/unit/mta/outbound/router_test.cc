// ResolveRoute with the real DnsResolver against a DNS server on 127.0.0.1: AAAA with
// use_ipv6, the order of families within one MX preference, IPv6-only hosts without use_ipv6,
// and IPv6 literal routes (no DNS at all).
#include "mta/outbound/router.h"

#include <gtest/gtest.h>

#include <optional>

#include "mta/dns/dns_resolver.h"
#include "tests/unit/mta/dns/test_dns_server.h"

namespace ec::outbound {
namespace {

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = event::EventBase::Create();
    ASSERT_TRUE(b.ok());
    base_ = std::move(b).value();
    // pref 10: a (v4+v6), b (v6+v4); pref 20: c (v4+v6); v6only: AAAA only.
    server_.AddMx("mx.test", 20, "c.mx.test");
    server_.AddMx("mx.test", 10, "a.mx.test");
    server_.AddMx("mx.test", 10, "b.mx.test");
    server_.AddA("a.mx.test", "127.0.0.2");
    server_.AddAaaa("a.mx.test", "::2");
    server_.AddAaaa("b.mx.test", "::3");
    server_.AddA("b.mx.test", "127.0.0.3");
    server_.AddA("c.mx.test", "127.0.0.4");
    server_.AddAaaa("c.mx.test", "::4");
    server_.AddMx("v6.test", 10, "only6.v6.test");
    server_.AddAaaa("only6.v6.test", "::1");
    server_.AddA("nomx.test", "127.0.0.9");
    server_.AddAaaa("nomx.test", "::9");
    ASSERT_TRUE(server_.Start()) << "no free port for the test DNS server";
    dns::ResolverConfig config;
    auto ns = event::SocketAddress::ParseHostPort(server_.address());
    ASSERT_TRUE(ns.ok());
    config.nameservers.push_back(*ns);
    config.timeout = std::chrono::seconds(2);
    config.attempts = 1;
    resolver_ = std::make_unique<dns::DnsResolver>(*base_, config);
  }

  Result<std::vector<Hop>> Route(const DomainPolicy& policy, dns::Resolver* resolver) {
    std::optional<Result<std::vector<Hop>>> out;
    ResolveRoute(resolver, policy, [&](Result<std::vector<Hop>> r) { out = std::move(r); });
    EXPECT_TRUE(base_->RunUntil([&] { return out.has_value(); }, std::chrono::seconds(10)));
    return out ? *out : Result<std::vector<Hop>>(Internal("no answer"));
  }

  static DomainPolicy Policy(std::string domain, bool use_ipv6, bool prefer_ipv6) {
    DomainPolicy p;
    p.domain = std::move(domain);
    p.port = 2525;
    p.use_ipv6 = use_ipv6;
    p.prefer_ipv6 = prefer_ipv6;
    return p;
  }

  static std::vector<std::string> Addresses(const std::vector<Hop>& hops) {
    std::vector<std::string> out;
    for (const Hop& h : hops) out.push_back(h.address.ToString());
    return out;
  }

  dns::testing::TestDnsServer server_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<dns::DnsResolver> resolver_;
};

TEST_F(RouterTest, WithoutIpv6OnlyARecords) {
  auto r = Route(Policy("mx.test", false, false), resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r),
            (std::vector<std::string>{"127.0.0.2:2525", "127.0.0.3:2525", "127.0.0.4:2525"}));
  EXPECT_EQ((*r)[0].hostname, "a.mx.test");
}

TEST_F(RouterTest, WithIpv6FourFirstWithinEachPreference) {
  auto r = Route(Policy("mx.test", true, false), resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r),
            (std::vector<std::string>{"127.0.0.2:2525", "127.0.0.3:2525", "[::2]:2525",
                                      "[::3]:2525", "127.0.0.4:2525", "[::4]:2525"}));
  EXPECT_EQ((*r)[2].hostname, "a.mx.test");
  EXPECT_EQ((*r)[3].hostname, "b.mx.test");
}

TEST_F(RouterTest, PreferIpv6PutsSixFirstWithinEachPreference) {
  auto r = Route(Policy("mx.test", true, true), resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r),
            (std::vector<std::string>{"[::2]:2525", "[::3]:2525", "127.0.0.2:2525",
                                      "127.0.0.3:2525", "[::4]:2525", "127.0.0.4:2525"}));
}

TEST_F(RouterTest, Ipv6OnlyMxHostNeedsUseIpv6) {
  auto r = Route(Policy("v6.test", true, false), resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r), (std::vector<std::string>{"[::1]:2525"}));
  EXPECT_EQ((*r)[0].hostname, "only6.v6.test");

  r = Route(Policy("v6.test", false, false), resolver_.get());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("use_ipv6 is off"), std::string::npos)
      << r.status().message();
}

TEST_F(RouterTest, ImplicitMxAndHostRoutesGetAaaaToo) {
  auto r = Route(Policy("nomx.test", true, true), resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r), (std::vector<std::string>{"[::9]:2525", "127.0.0.9:2525"}));

  // Routes: each entry keeps its place; within a host entry, the family order applies.
  DomainPolicy p = Policy("routed.test", true, false);
  for (const char* item : {"b.mx.test", "smtp://[::7]:26", "a.mx.test"}) {
    auto t = ParseRoute(item);
    ASSERT_TRUE(t.ok()) << item << ": " << t.status().ToString();
    p.routes.push_back(*t);
  }
  r = Route(p, resolver_.get());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r), (std::vector<std::string>{"127.0.0.3:2525", "[::3]:2525", "[::7]:26",
                                                     "127.0.0.2:2525", "[::2]:2525"}));
}

TEST_F(RouterTest, Ipv6LiteralRoutesNeedNoDns) {
  DomainPolicy p = Policy("lit.test", false, false);
  auto route = ParseRoute("smtp://[::1]:25");
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  auto gateway = ParseGateway("[::1]:2526");
  ASSERT_TRUE(gateway.ok()) << gateway.status().ToString();
  p.routes = {*route, *gateway};
  auto r = Route(p, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Addresses(*r), (std::vector<std::string>{"[::1]:25", "[::1]:2526"}));
  EXPECT_EQ((*r)[0].address.family(), AF_INET6);
  EXPECT_EQ(server_.udp_queries(), 0);
}

}  // namespace
}  // namespace ec::outbound
