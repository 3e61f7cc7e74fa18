// DnsResolver against a real DNS server on 127.0.0.1 (test_dns_server.h): A+AAAA lookups,
// forged answers, query ids, and truncated UDP answers with and without the TCP fallback.
#include "mta/dns/dns_resolver.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "common/event/timer.h"
#include "tests/unit/mta/dns/test_dns_server.h"

namespace ec::dns {

namespace {

using testing::TestDnsServer;

class DnsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = event::EventBase::Create();
    ASSERT_TRUE(b.ok());
    base_ = std::move(b).value();
  }

  // Starts the server and a resolver pointed at it.
  void StartResolver(bool tcp_fallback,
                     std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    ASSERT_TRUE(server_.Start()) << "no free port for the test DNS server";
    ResolverConfig config;
    auto ns = event::SocketAddress::ParseHostPort(server_.address());
    ASSERT_TRUE(ns.ok());
    config.nameservers.push_back(*ns);
    config.timeout = timeout;
    config.attempts = 1;
    config.tcp_fallback = tcp_fallback;
    resolver_ = std::make_unique<DnsResolver>(*base_, config);
  }

  Result<std::vector<std::string>> Addresses(const std::string& name, bool ipv6) {
    std::optional<Result<std::vector<std::string>>> out;
    resolver_->LookupAddresses(name, ipv6, [&](auto r) { out = std::move(r); });
    EXPECT_TRUE(base_->RunUntil([&] { return out.has_value(); }, std::chrono::seconds(10)));
    return out ? *out : Result<std::vector<std::string>>(Internal("no answer"));
  }

  Result<std::vector<MxRecord>> Mx(const std::string& name) {
    std::optional<Result<std::vector<MxRecord>>> out;
    resolver_->LookupMx(name, [&](auto r) { out = std::move(r); });
    EXPECT_TRUE(base_->RunUntil([&] { return out.has_value(); }, std::chrono::seconds(10)));
    return out ? *out : Result<std::vector<MxRecord>>(Internal("no answer"));
  }

  // 40 MX records with long names: about 1.4 KB, far over UDP's 512 bytes.
  void AddBigMxSet() {
    for (int i = 0; i < 40; ++i) {
      server_.AddMx("big.test", static_cast<uint16_t>(10 + i),
                    "mx" + std::to_string(i) + ".a-rather-long-mail-exchanger-name.big.test");
    }
  }

  TestDnsServer server_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<DnsResolver> resolver_;
};

TEST_F(DnsResolverTest, AddressesOfBothFamiliesWithIpv6) {
  server_.AddA("both.test", "127.0.0.2");
  server_.AddAaaa("both.test", "::2");
  server_.AddAaaa("both.test", "2001:db8::1");
  server_.AddAaaa("v6only.test", "::1");
  StartResolver(false);

  auto r = Addresses("both.test", true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<std::string>{"127.0.0.2", "::2", "2001:db8::1"}));
  r = Addresses("both.test", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"127.0.0.2"}));

  // Only AAAA: usable with ipv6, NODATA (empty) without.
  r = Addresses("v6only.test", true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<std::string>{"::1"}));
  r = Addresses("v6only.test", false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());

  r = Addresses("nowhere.test", true);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

// An off-path spoofer that guessed the query's id and port sends its answer first: for another
// question, or for ours with records owned by another name. Neither may be used; the real answer
// that follows is.
class ForgedAnswerTest : public DnsResolverTest,
                         public ::testing::WithParamInterface<TestDnsServer::Forge> {};

TEST_P(ForgedAnswerTest, IsIgnoredAndTheRealAnswerUsed) {
  server_.AddMx("mx.test", 10, "real.mx.test");
  server_.AddA("real.mx.test", "127.0.0.2");
  server_.AddAaaa("real.mx.test", "::2");
  server_.forge = GetParam();
  StartResolver(false);
  auto mx = Mx("mx.test");
  ASSERT_TRUE(mx.ok()) << mx.status().ToString();
  EXPECT_EQ(*mx, (std::vector<MxRecord>{{10, "real.mx.test"}}));
  auto a = Addresses("real.mx.test", true);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (std::vector<std::string>{"127.0.0.2", "::2"}));
  EXPECT_EQ(server_.udp_queries(), 3);  // each answered, forged first, on the first try
}

INSTANTIATE_TEST_SUITE_P(Forgeries, ForgedAnswerTest,
                         ::testing::Values(TestDnsServer::Forge::kWrongQuestion,
                                           TestDnsServer::Forge::kWrongOwner),
                         [](const auto& info) {
                           return info.param == TestDnsServer::Forge::kWrongQuestion
                                      ? "WrongQuestion"
                                      : "WrongOwner";
                         });

// RFC 5452: an id a spoofer cannot predict from the last one. Lookups one after another also
// leave from more than one source port (c-ares closes an idle channel's sockets).
TEST_F(DnsResolverTest, QueryIdsAreNotSequential) {
  server_.AddA("a.test", "127.0.0.2");
  StartResolver(false);
  constexpr int kLookups = 16;
  for (int i = 0; i < kLookups; ++i) ASSERT_TRUE(Addresses("a.test", false).ok());
  auto queries = server_.queries();
  ASSERT_EQ(queries.size(), static_cast<size_t>(kLookups));
  int next_of_last = 0;
  std::set<uint16_t> ports;
  for (size_t i = 0; i < queries.size(); ++i) {
    ports.insert(queries[i].port);
    if (i > 0 && queries[i].id == static_cast<uint16_t>(queries[i - 1].id + 1)) ++next_of_last;
  }
  EXPECT_LT(next_of_last, kLookups / 2);
  EXPECT_GT(ports.size(), 1u);
}

TEST(MergeAddressLookups, AddressesWinThenTransientErrorsThenNxdomain) {
  using V = Result<std::vector<std::string>>;
  auto merged =
      MergeAddressLookups(V(std::vector<std::string>{"1.2.3.4"}), V(Unavailable("timeout")));
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(*merged, (std::vector<std::string>{"1.2.3.4"}));
  merged = MergeAddressLookups(V(std::vector<std::string>{}), V(Unavailable("timeout")));
  EXPECT_EQ(merged.status().code(), StatusCode::kUnavailable);
  merged = MergeAddressLookups(V(NotFound("nx")), V(NotFound("nx")));
  EXPECT_EQ(merged.status().code(), StatusCode::kNotFound);
  merged = MergeAddressLookups(V(std::vector<std::string>{}), V(std::vector<std::string>{}));
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(merged->empty());
}

TEST_F(DnsResolverTest, TruncatedAnswerIsAskedAgainOverTcp) {
  AddBigMxSet();
  StartResolver(true);
  auto r = Mx("big.test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 40u);
  EXPECT_EQ(r->back().exchange, "mx39.a-rather-long-mail-exchanger-name.big.test");
  EXPECT_EQ(server_.udp_queries(), 1);
  EXPECT_EQ(server_.tcp_queries(), 1);
}

TEST_F(DnsResolverTest, TcpAnswerInPiecesAfterAnUnrelatedMessage) {
  AddBigMxSet();
  server_.tcp_mode = TestDnsServer::TcpMode::kDribble;
  StartResolver(true, std::chrono::seconds(5));
  auto r = Mx("big.test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 40u);
}

TEST_F(DnsResolverTest, WithoutFallbackATruncatedAnswerIsUsedAsFarAsItGoes) {
  AddBigMxSet();
  StartResolver(false);
  auto r = Mx("big.test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GT(r->size(), 0u);
  EXPECT_LT(r->size(), 40u);
  EXPECT_EQ((*r)[0].exchange, "mx0.a-rather-long-mail-exchanger-name.big.test");
  EXPECT_EQ(server_.tcp_queries(), 0);
}

TEST_F(DnsResolverTest, WithoutFallbackAnEmptyTruncatedAnswerFailsTransiently) {
  server_.AddA("small.test", "127.0.0.5");
  server_.udp_limit = 40;  // room for the question only: TC with no records
  StartResolver(false);
  auto r = Addresses("small.test", false);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("dns_fallback_to_tcp is off"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(server_.tcp_queries(), 0);
}

TEST_F(DnsResolverTest, FailedTcpFallsBackToTheTruncatedRecordsOrFails) {
  AddBigMxSet();
  server_.AddA("small.test", "127.0.0.5");
  server_.tcp_mode = TestDnsServer::TcpMode::kClose;
  StartResolver(true);
  auto mx = Mx("big.test");  // TC with some records: those
  ASSERT_TRUE(mx.ok()) << mx.status().ToString();
  EXPECT_GT(mx->size(), 0u);
  EXPECT_LT(mx->size(), 40u);

  server_.udp_limit = 40;  // TC with no records: a transient error that says why
  auto a = Addresses("small.test", false);
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable) << a.status().ToString();
  EXPECT_NE(a.status().message().find("over TCP failed"), std::string::npos)
      << a.status().message();
  EXPECT_EQ(server_.tcp_queries(), 2);
}

TEST_F(DnsResolverTest, DestroyingTheResolverCancelsATcpExchange) {
  AddBigMxSet();
  server_.tcp_mode = TestDnsServer::TcpMode::kSilent;
  StartResolver(true, std::chrono::seconds(5));
  bool called = false;
  resolver_->LookupMx("big.test", [&](auto) { called = true; });
  event::Timer tick(*base_, [] {});  // wakes the loop to look at the server's counter
  tick.StartRepeating(std::chrono::milliseconds(10));
  ASSERT_TRUE(base_->RunUntil([&] { return server_.tcp_queries() == 1; }, std::chrono::seconds(4)));
  resolver_.reset();  // with the TCP connection open and its read event pending
  base_->RunUntil([] { return false; }, std::chrono::milliseconds(100));
  EXPECT_FALSE(called);
}

TEST_F(DnsResolverTest, SmallTruncatedAnswerIsReplacedByTheTcpOne) {
  server_.AddA("small.test", "127.0.0.5");
  server_.AddA("small.test", "127.0.0.6");
  server_.truncate_udp = true;  // TC though everything fit: TCP is still asked
  StartResolver(true);
  auto a = Addresses("small.test", false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (std::vector<std::string>{"127.0.0.5", "127.0.0.6"}));
  EXPECT_EQ(server_.tcp_queries(), 1);
}

TEST_F(DnsResolverTest, TcpToAClosedPortFailsQuickly) {
  // A server without TCP: the connect is refused, an error at once rather than at the timeout.
  server_.AddA("small.test", "127.0.0.5");
  server_.udp_limit = 40;  // TC with no records
  server_.tcp_listener = false;
  StartResolver(true);
  auto start = std::chrono::steady_clock::now();
  auto a = Addresses("small.test", false);
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable) << a.status().ToString();
  EXPECT_NE(a.status().message().find("over TCP failed"), std::string::npos)
      << a.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(DnsResolverTest, SilentTcpServerTimesOut) {
  // A listener that never answers: the lookup ends at the timeout, saying so.
  server_.AddA("small.test", "127.0.0.5");
  server_.udp_limit = 40;
  server_.tcp_mode = TestDnsServer::TcpMode::kSilent;
  StartResolver(true, std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  auto a = Addresses("small.test", false);
  EXPECT_EQ(a.status().code(), StatusCode::kUnavailable) << a.status().ToString();
  EXPECT_NE(a.status().message().find("timed out"), std::string::npos) << a.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(DnsResolverTest, NamesThatCannotBeAskedFailAtOnce) {
  StartResolver(false);
  auto a = Addresses("a..b", false);
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << a.status().ToString();
  EXPECT_EQ(server_.udp_queries(), 0);
}

TEST(DnsResolverWithoutServers, FailsTransientlySayingWhy) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  DnsResolver resolver(**base, ResolverConfig{});
  std::optional<Result<std::vector<MxRecord>>> out;
  resolver.LookupMx("mx.test", [&](auto r) { out = std::move(r); });
  EXPECT_FALSE(out.has_value());  // never from inside the call
  ASSERT_TRUE((*base)->RunUntil([&] { return out.has_value(); }, std::chrono::seconds(5)));
  EXPECT_EQ(out->status().code(), StatusCode::kUnavailable);
  EXPECT_NE(out->status().message().find("no nameserver"), std::string::npos)
      << out->status().message();
}

}  // namespace
}  // namespace ec::dns
