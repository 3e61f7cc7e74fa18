#include "mta/outbound/route.h"

#include <gtest/gtest.h>

#include "mta/outbound/domain_policy.h"

namespace ec::outbound {
namespace {

using K = RouteTarget::Kind;

TEST(Route, UriForms) {
  auto r = ParseRoute("smtp://127.0.0.1:2600");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (RouteTarget{K::kAddress, "127.0.0.1", 2600, 0}));
  r = ParseRoute("smtp://10.0.0.1?pref=10&port=2525&ttl=30&type=a");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (RouteTarget{K::kAddress, "10.0.0.1", 2525, 10}));
  r = ParseRoute("smtp://[::1]:25");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "::1");
  r = ParseRoute("smtp://mx.example.com?type=mx");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, K::kMx);
  r = ParseRoute("__mx__");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, K::kMx);
  EXPECT_TRUE(r->host.empty());
}

TEST(Route, GatewayForms) {
  auto g = ParseGateway("relay.example.com");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(*g, (RouteTarget{K::kHost, "relay.example.com", 0, 0}));
  g = ParseGateway("127.0.0.5:2525");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->port, 2525);
  g = ParseGateway("::1");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->kind, K::kAddress);
}

TEST(Route, Errors) {
  for (const char* bad : {"smtp://1.2.3.4:0", "smtp://1.2.3.4:99999", "smtp://x?pref=a",
                          "smtp://1.2.3.4?type=mx", "smtp://bad host", "smtp://[::1",
                          "smtp://a?color=red", "", "smtp://1.2.3.4?port"}) {
    EXPECT_FALSE(ParseRoute(bad).ok()) << bad;
  }
}

TEST(Route, SortedByPreference) {
  auto r = ParseRoutes({"smtp://127.0.0.3?pref=20", "smtp://127.0.0.1?pref=10",
                        "smtp://127.0.0.2?pref=10"});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].host, "127.0.0.1");
  EXPECT_EQ((*r)[1].host, "127.0.0.2");
  EXPECT_EQ((*r)[2].host, "127.0.0.3");
}

TEST(RetryDelay, DoublesUpToTheCap) {
  DomainPolicy p;
  p.retry_interval = std::chrono::seconds(60);
  p.max_retry_interval = std::chrono::seconds(300);
  EXPECT_EQ(p.RetryDelay(1).count(), 60);
  EXPECT_EQ(p.RetryDelay(2).count(), 120);
  EXPECT_EQ(p.RetryDelay(3).count(), 240);
  EXPECT_EQ(p.RetryDelay(4).count(), 300);
  EXPECT_EQ(p.RetryDelay(1000).count(), 300);
}

}  // namespace
}  // namespace ec::outbound
