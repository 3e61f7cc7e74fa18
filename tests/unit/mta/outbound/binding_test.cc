// Bindings: declaration, assignment (message, destination domain, default), group spreading,
// per-binding limits, and the policy a binding gives a domain.
#include "mta/outbound/binding.h"

#include <gtest/gtest.h>

#include <map>

#include "common/config/loader.h"
#include "mta/outbound/domain_policy.h"

namespace ec::outbound {
namespace {

std::shared_ptr<const config::Config> Parse(const std::string& text) {
  config::LoadOptions o;
  o.allow_includes = false;
  o.use_environment = false;
  config::Diagnostics diags;
  auto c = config::ParseConfigString(text, "t.conf", o, &diags);
  EC_CHECK(c != nullptr);
  return c;
}

constexpr char kConfig[] = R"(
bind_address = "127.0.0.9"
Binding "solo" {
  bind_address = "127.0.0.5"
  ehlo_hostname = "solo.example"
  server_max_outbound_connections = 3
}
Binding_Group "pool" {
  server_max_outbound_connections = 7
  Binding "p1" { bind_address = "127.0.0.6" }
  Binding "p2" { bind_address = "127.0.0.7" }
  Binding "p3" {
    bind_address = "127.0.0.8"
    Domain "slow.test" { max_outbound_connections = 1 }
  }
}
Domain "to-solo.test" { set_binding = "solo" }
Domain "to-pool.test" { set_binding_group = "pool" }
Domain "slow.test" { max_outbound_connections = 5 }
)";

TEST(BindingTableTest, DeclaresEveryBindingWithItsGroupAndTheDefault) {
  auto t = BindingTable::Build(Parse(kConfig));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::map<std::string, std::string> got;
  for (const BindingRef& b : t->all()) got[b.name] = b.group;
  EXPECT_EQ(got, (std::map<std::string, std::string>{{"default", "default"},
                                                     {"solo", "default"},
                                                     {"p1", "pool"},
                                                     {"p2", "pool"},
                                                     {"p3", "pool"}}));
  EXPECT_EQ(t->MaxConnections("solo"), 3);
  EXPECT_EQ(t->MaxConnections("p2"), 7);  // from its group
  EXPECT_EQ(t->MaxConnections("default"), -1);
  EXPECT_FALSE(t->default_suspended());
}

TEST(BindingTableTest, MessageAssignmentWinsOverTheDomainsAndUnassignedMailIsDefault) {
  auto t = BindingTable::Build(Parse(kConfig));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const spool::QueueId id(42);
  EXPECT_EQ(t->Assign(id, {}, "other.test"), BindingRef{});
  EXPECT_EQ(t->Assign(id, {}, "to-solo.test"), (BindingRef{"default", "solo"}));
  EXPECT_EQ(t->Assign(id, {.binding = "p1"}, "to-solo.test"), (BindingRef{"pool", "p1"}));
  // A name the config no longer declares (it changed while the mail was queued): default.
  EXPECT_EQ(t->Assign(id, {.binding = "gone"}, "to-solo.test"), BindingRef{});
  EXPECT_EQ(t->Assign(id, {.group = "gone"}, "other.test"), BindingRef{});
}

TEST(BindingTableTest, AGroupSpreadsMessagesOverItsBindingsAndEachKeepsItsChoice) {
  auto t = BindingTable::Build(Parse(kConfig));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::map<std::string, int> counts;
  for (uint64_t i = 1; i <= 3000; ++i) {
    BindingRef b = t->Assign(spool::QueueId(i), {}, "to-pool.test");
    EXPECT_EQ(b.group, "pool");
    counts[b.name]++;
    // Asked again (a retry, or after a restart), the same message gets the same binding.
    EXPECT_EQ(t->Assign(spool::QueueId(i), {.group = "pool"}, "x.test"), b);
  }
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [name, n] : counts) EXPECT_GT(n, 800) << name;
}

TEST(BindingTableTest, RefusesAssignmentsToUndeclaredNamesAndBindingsInTwoGroups) {
  auto typo = BindingTable::Build(Parse(R"(
Binding "solo" { }
Peer "10.0.0.0/8" { set_binding = "sol" }
)"));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("t.conf:3"), std::string::npos)
      << typo.status().ToString();
  EXPECT_NE(typo.status().message().find("Binding \"sol\""), std::string::npos);

  auto group = BindingTable::Build(Parse(R"(Domain "x.test" { set_binding_group = "none" })"));
  ASSERT_FALSE(group.ok());
  EXPECT_NE(group.status().message().find("Binding_Group \"none\""), std::string::npos);

  auto twice = BindingTable::Build(Parse(R"(
Binding_Group "a" { Binding "b" { } }
Binding_Group "c" { Binding "b" { } }
)"));
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("both Binding_Group"), std::string::npos);
}

TEST(BindingTableTest, DefaultBindingSuspended) {
  auto t = BindingTable::Build(Parse(R"(default_binding = "suspended")"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->default_suspended());
  auto none = BindingTable::Build(Parse(R"(default_binding = "none")"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("not supported"), std::string::npos);
}

TEST(BindingPolicyTest, EachBindingBringsItsOwnAddressNameAndLimits) {
  auto c = Parse(kConfig);
  auto solo = BuildDomainPolicy(*c, "x.test", "node.example", BindingRef{"default", "solo"});
  ASSERT_TRUE(solo.ok()) << solo.status().ToString();
  EXPECT_EQ((*solo)->bind_address, "127.0.0.5");
  EXPECT_EQ((*solo)->ehlo_hostname, "solo.example");

  auto dflt = BuildDomainPolicy(*c, "x.test", "node.example");
  ASSERT_TRUE(dflt.ok()) << dflt.status().ToString();
  EXPECT_EQ((*dflt)->bind_address, "127.0.0.9");  // the global one is the default binding's
  EXPECT_EQ((*dflt)->ehlo_hostname, "node.example");

  // binding::domain beats the global domain, which beats the binding.
  auto p3 = BuildDomainPolicy(*c, "slow.test", "h", BindingRef{"pool", "p3"});
  auto p1 = BuildDomainPolicy(*c, "slow.test", "h", BindingRef{"pool", "p1"});
  ASSERT_TRUE(p3.ok() && p1.ok());
  EXPECT_EQ((*p3)->max_connections, 1);
  EXPECT_EQ((*p1)->max_connections, 5);
  EXPECT_EQ((*p3)->bind_address, "127.0.0.8");
}

TEST(BindingPolicyTest, ABindAddressThatIsNotAnAddressIsAnErrorAtStart) {
  auto g = BuildGlobalOutbound(Parse(R"(Binding "b" { bind_address = "mail.example.com" })"), "h");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("binding \"b\""), std::string::npos) << g.status().ToString();
  EXPECT_NE(g.status().message().find("not an IPv4 or IPv6 address"), std::string::npos);
  auto ok = BuildGlobalOutbound(Parse(kConfig), "h");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->bindings->all().size(), 5u);
}

TEST(BindingPolicyTest, TheNodesHostnameNamesItInEhloAndBounces) {
  auto named = BuildGlobalOutbound(Parse(R"(hostname = "mx.example")"), "system-name");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->hostname, "mx.example");
  auto policy = BuildDomainPolicy(*Parse(R"(hostname = "mx.example")"), "x.test", named->hostname);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ((*policy)->ehlo_hostname, "mx.example");
  EXPECT_EQ((*policy)->mailerdaemon, "mailer-daemon@mx.example");
  auto unset = BuildGlobalOutbound(Parse(""), "system-name");
  ASSERT_TRUE(unset.ok()) << unset.status().ToString();
  EXPECT_EQ(unset->hostname, "system-name");
}

}  // namespace
}  // namespace ec::outbound
