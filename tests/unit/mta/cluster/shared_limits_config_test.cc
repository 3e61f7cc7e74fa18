// ResolveLimits over every subset of the places each cluster limit may be set: the winner is the
// most specific place of the design's precedence table (docs/cluster-limits.md), its key names
// where it was written; -1 and throttles of 0 are no rule; LimitResolver caches and stays bounded.
#include "mta/cluster/shared_limits_config.h"

#include <ostream>

#include "tests/unit/common/config/test_util.h"
#include "tests/unit/mta/cluster/limits_test_util.h"

namespace ec::mta::cluster {

void PrintTo(const LimitRule& r, std::ostream* os) {
  *os << "{" << r.key << " limit " << r.limit << " window_ms " << r.window_ms << "}";
}

namespace {

using outbound::LimitScope;

constexpr char kMax[] = "cluster_max_outbound_connections";
constexpr char kServerMax[] = "cluster_server_max_outbound_connections";
constexpr char kScopeMax[] = "cluster_scope_max_outbound_connections";
constexpr char kObtc[] = "cluster_outbound_throttle_connections";
constexpr char kObtm[] = "cluster_outbound_throttle_messages";

constexpr char kReplicateAll[] = R"(cluster {
  Replicate "outbound_domains" { }
  Replicate "outbound_cidr" { }
  Replicate "outbound_binding_domains" { }
  Replicate "OBTM" { }
  Replicate "OBTC" { }
}
)";

// A place a limit may be set (its stanzas, outermost first) and the key it gives a connection
// and a host connection ("" = not that unit's). Listed most specific first.
struct Place {
  std::vector<std::string> stanzas;
  std::string connection_key;
  std::string host_key;
};

const std::string kG = "Binding_Group \"g\"", kB = "Binding \"b\"", kD = "Domain \"d.test\"",
                  kH = "Host \"192.0.2.1\"";

// Stanzas as a tree, printed as config text: each place once, nested, in insertion order.
struct Node {
  std::string head;
  std::string option;
  std::vector<Node> children;
};

void Insert(Node* node, const std::vector<std::string>& stanzas, size_t depth, std::string line) {
  if (depth == stanzas.size()) {
    node->option = std::move(line);
    return;
  }
  for (Node& c : node->children) {
    if (c.head == stanzas[depth]) return Insert(&c, stanzas, depth + 1, std::move(line));
  }
  node->children.push_back({stanzas[depth], "", {}});
  Insert(&node->children.back(), stanzas, depth + 1, std::move(line));
}

void Print(const Node& node, std::string* out) {
  if (!node.option.empty()) *out += node.option + "\n";
  for (const Node& c : node.children) {
    *out += c.head + " {\n";
    Print(c, out);
    *out += "}\n";
  }
}

// The value written at place i: a count 10 + i, or for a throttle "10+i/(i+1)" (seconds).
std::string ValueAt(size_t i, bool throttle) {
  if (!throttle) return std::to_string(10 + i);
  return "\"" + std::to_string(10 + i) + "/" + std::to_string(i + 1) + "\"";
}

LimitRule RuleAt(const std::string& key, size_t i, bool throttle) {
  return {key, 10 + i, throttle ? (i + 1) * 1000 : 0};
}

// Every subset of `places` set (option at place i = ValueAt(i)): `unit` for `scope` yields
// exactly the rule of the most specific place set, or none.
void CheckEverySubset(const std::string& option, const std::vector<Place>& places,
                      const LimitScope& scope, bool throttle) {
  const LimitUnit connection_unit = option == kObtm ? LimitUnit::kMessage : LimitUnit::kConnection;
  for (uint32_t mask = 0; mask < (1u << places.size()); ++mask) {
    Node root;  // every stanza is declared, set or not: Binding "b" stays in its group
    for (const Place& p : places) Insert(&root, p.stanzas, 0, "");
    for (size_t i = 0; i < places.size(); ++i) {
      if (mask & (1u << i))
        Insert(&root, places[i].stanzas, 0, option + " = " + ValueAt(i, throttle));
    }
    std::string text = kReplicateAll;
    Print(root, &text);
    auto config = ParseValid(text);
    std::vector<LimitRule> want_connection, want_host;
    bool host_decided = false;
    for (size_t i = 0; i < places.size(); ++i) {
      if (!(mask & (1u << i))) continue;
      if (!host_decided) {  // the most specific setting of all decides the host connection
        host_decided = true;
        if (!places[i].host_key.empty()) want_host = {RuleAt(places[i].host_key, i, throttle)};
      }
      if (want_connection.empty() && !places[i].connection_key.empty()) {
        want_connection = {RuleAt(places[i].connection_key, i, throttle)};
      }
    }
    SCOPED_TRACE(text);
    EXPECT_EQ(ResolveLimits(*config, scope, connection_unit), want_connection);
    if (!scope.host.empty()) {
      EXPECT_EQ(ResolveLimits(*config, scope, LimitUnit::kHostConnection), want_host);
    }
  }
}

// The design's table: binding::host > host > binding::domain > binding > domain > global.
TEST(ResolveLimitsTest, MaxConnectionsTopLevelBindingEverySubset) {
  const std::string d = "outbound_domains/d.test", bd = "outbound_domains/binding/b/d.test";
  std::vector<Place> places = {
      {{kB, kH}, "", "outbound_domains/binding/b/host/192.0.2.1"},
      {{kH}, "", "outbound_domains/host/192.0.2.1"},
      {{kB, kD}, bd, ""},
      {{kB}, bd, ""},
      {{kD}, d, ""},
      {{}, d, ""},
  };
  CheckEverySubset(kMax, places, {.binding = "b", .domain = "d.test", .host = "192.0.2.1"}, false);
}

// Eval's full outbound chain: a Binding inside a Binding_Group, and the group's own stanzas.
TEST(ResolveLimitsTest, MaxConnectionsGroupedBindingEverySubset) {
  const std::string d = "outbound_domains/d.test", bd = "outbound_domains/binding/b/d.test";
  std::vector<Place> places = {
      {{kG, kB, kH}, "", "outbound_domains/binding/b/host/192.0.2.1"},
      {{kG, kH}, "", "outbound_domains/group/g/host/192.0.2.1"},
      {{kH}, "", "outbound_domains/host/192.0.2.1"},
      {{kG, kB, kD}, bd, ""},
      {{kG, kD}, "outbound_domains/group/g/d.test", ""},
      {{kG, kB}, bd, ""},
      {{kD}, d, ""},
      {{}, d, ""},
  };
  // The group is found from the binding, or named by the scope.
  CheckEverySubset(kMax, places, {.binding = "b", .domain = "d.test", .host = "192.0.2.1"}, false);
  CheckEverySubset(kMax, places,
                   {.binding = "b", .binding_group = "g", .domain = "d.test", .host = "192.0.2.1"},
                   false);
}

TEST(ResolveLimitsTest, MaxConnectionsForTheDefaultBindingSkipsBindingScopes) {
  std::vector<Place> places = {
      {{kH}, "", "outbound_domains/host/192.0.2.1"},
      {{kD}, "outbound_domains/d.test", ""},
      {{}, "outbound_domains/d.test", ""},
  };
  CheckEverySubset(kMax, places, {.domain = "d.test", .host = "192.0.2.1"}, false);
}

TEST(ResolveLimitsTest, ServerMaxConnectionsEverySubset) {
  std::vector<Place> places = {
      {{kG, kB}, "outbound_cidr/b", ""},
      {{kG}, "outbound_cidr/group/g", ""},
      {{}, "outbound_cidr/*", ""},
  };
  CheckEverySubset(kServerMax, places, {.binding = "b", .domain = "d.test"}, false);
  CheckEverySubset(kServerMax, {{{kB}, "outbound_cidr/b", ""}, {{}, "outbound_cidr/*", ""}},
                   {.binding = "b", .domain = "d.test"}, false);
}

TEST(ResolveLimitsTest, ScopeMaxConnectionsEverySubset) {
  const std::string p = "outbound_binding_domains/";
  std::vector<Place> places = {
      {{kG, kB, kH}, "", p + "group/g/binding/b/host/192.0.2.1"},
      {{kG, kH}, "", p + "group/g/host/192.0.2.1"},
      {{kH}, "", p + "host/192.0.2.1"},
      {{kG, kB, kD}, p + "group/g/binding/b/d.test", ""},
      {{kG, kD}, p + "group/g/d.test", ""},
      {{kG, kB}, p + "group/g/binding/b", ""},
      {{kG}, p + "group/g", ""},
      {{kD}, p + "d.test", ""},
      {{}, p + "*", ""},
  };
  CheckEverySubset(kScopeMax, places, {.binding = "b", .domain = "d.test", .host = "192.0.2.1"},
                   false);
}

void CheckThrottle(const std::string& option, const std::string& type) {
  const std::string d = type + "/d.test";
  std::vector<Place> places = {
      {{kG, kB, kD}, type + "/binding/b/d.test", ""},
      {{kG, kD}, type + "/group/g/d.test", ""},
      {{kG}, type + "/group/g", ""},
      {{kD}, d, ""},
      {{}, d, ""},  // global: each domain has its own throttle
  };
  CheckEverySubset(option, places, {.binding = "b", .domain = "d.test"}, true);
}

TEST(ResolveLimitsTest, ConnectionThrottleEverySubset) { CheckThrottle(kObtc, "obtc"); }
TEST(ResolveLimitsTest, MessageThrottleEverySubset) { CheckThrottle(kObtm, "obtm"); }

// Which unit each option is asked for, all at once, in a stable order.
TEST(ResolveLimitsTest, UnitsTakeTheirOwnOptions) {
  auto config = ParseValid(std::string(kReplicateAll) + R"(
cluster_max_outbound_connections = 1
cluster_server_max_outbound_connections = 2
cluster_scope_max_outbound_connections = 3
cluster_outbound_throttle_connections = "4/10"
cluster_outbound_throttle_messages = 5
Host "192.0.2.1" { cluster_max_outbound_connections = 6 cluster_scope_max_outbound_connections = 7 }
)");
  LimitScope s{.domain = "d.test", .host = "192.0.2.1"};
  EXPECT_EQ(ResolveLimits(*config, s, LimitUnit::kConnection),
            (std::vector<LimitRule>{{"outbound_domains/d.test", 1, 0},
                                    {"outbound_cidr/*", 2, 0},
                                    {"outbound_binding_domains/*", 3, 0},
                                    {"obtc/d.test", 4, 10000}}));
  EXPECT_EQ(ResolveLimits(*config, s, LimitUnit::kHostConnection),
            (std::vector<LimitRule>{{"outbound_domains/host/192.0.2.1", 6, 0},
                                    {"outbound_binding_domains/host/192.0.2.1", 7, 0}}));
  EXPECT_EQ(ResolveLimits(*config, s, LimitUnit::kMessage),
            (std::vector<LimitRule>{{"obtm/d.test", 5, 1000}}));
  // No host: no host rules. Another host: none of this one's.
  EXPECT_TRUE(ResolveLimits(*config, {.domain = "d.test"}, LimitUnit::kHostConnection).empty());
  EXPECT_TRUE(
      ResolveLimits(*config, {.domain = "d.test", .host = "192.0.2.2"}, LimitUnit::kHostConnection)
          .empty());
}

TEST(ResolveLimitsTest, MinusOneAndZeroThrottlesOverrideWithNoRule) {
  auto config = ParseValid(std::string(kReplicateAll) + R"(
cluster_max_outbound_connections = 5
cluster_scope_max_outbound_connections = 5
cluster_server_max_outbound_connections = 5
cluster_outbound_throttle_messages = 5
cluster_outbound_throttle_connections = 5
Domain "d.test" {
  cluster_max_outbound_connections = -1
  cluster_scope_max_outbound_connections = -1
  cluster_outbound_throttle_messages = 0
  cluster_outbound_throttle_connections = "0/60"
}
Binding "b" { cluster_server_max_outbound_connections = -1 }
Host "192.0.2.1" { cluster_max_outbound_connections = -1 }
Domain "zero.test" { cluster_max_outbound_connections = 0 }
)");
  LimitScope s{.binding = "b", .domain = "d.test", .host = "192.0.2.1"};
  EXPECT_TRUE(ResolveLimits(*config, s, LimitUnit::kConnection).empty());
  EXPECT_TRUE(ResolveLimits(*config, s, LimitUnit::kHostConnection).empty());
  EXPECT_TRUE(ResolveLimits(*config, s, LimitUnit::kMessage).empty());
  // 0 connections is a limit (nothing may connect), unlike a throttle of 0.
  EXPECT_EQ(ResolveLimits(*config, {.domain = "zero.test"}, LimitUnit::kConnection).front(),
            (LimitRule{"outbound_domains/zero.test", 0, 0}));
}

TEST(ResolveLimitsTest, RegexDomainsCountPerDomainExceptTheScopeMax) {
  auto config = ParseValid(std::string(kReplicateAll) + R"(
Domain "/\.rx\.test$/" {
  cluster_max_outbound_connections = 3
  cluster_scope_max_outbound_connections = 4
  cluster_outbound_throttle_messages = 5
}
Domain "Exact.RX.test" { cluster_max_outbound_connections = 6 cluster_scope_max_outbound_connections = 7 }
)");
  EXPECT_EQ(ResolveLimits(*config, {.domain = "a.rx.test"}, LimitUnit::kConnection),
            (std::vector<LimitRule>{{"outbound_domains/a.rx.test", 3, 0},
                                    {"outbound_binding_domains//\\.rx\\.test$/", 4, 0}}));
  EXPECT_EQ(ResolveLimits(*config, {.domain = "a.rx.test"}, LimitUnit::kMessage),
            (std::vector<LimitRule>{{"obtm/a.rx.test", 5, 1000}}));
  // An exact name (any case) wins over the regex; its key is lower-case.
  EXPECT_EQ(ResolveLimits(*config, {.domain = "exact.rx.test"}, LimitUnit::kConnection),
            (std::vector<LimitRule>{{"outbound_domains/exact.rx.test", 6, 0},
                                    {"outbound_binding_domains/exact.rx.test", 7, 0}}));
  EXPECT_TRUE(ResolveLimits(*config, {.domain = "rx.test.org"}, LimitUnit::kConnection).empty());
}

TEST(LimitResolverTest, CachesPerUnitAndScopeAndStaysBounded) {
  auto config = ParseValid(std::string(kReplicateAll) +
                           "cluster_max_outbound_connections = 2\n"
                           "cluster_outbound_throttle_messages = \"3/5\"\n");
  LimitResolver resolver(config);
  LimitScope s{.domain = "d.test"};
  EXPECT_EQ(resolver.Resolve(s, LimitUnit::kConnection),
            ResolveLimits(*config, s, LimitUnit::kConnection));
  EXPECT_EQ(resolver.Resolve(s, LimitUnit::kMessage),
            (std::vector<LimitRule>{{"obtm/d.test", 3, 5000}}));
  EXPECT_EQ(resolver.cached(), 2u);
  EXPECT_EQ(resolver.Resolve(s, LimitUnit::kConnection).front().key, "outbound_domains/d.test");
  EXPECT_EQ(resolver.cached(), 2u);
  // Fields are kept apart: binding "ab" + domain "c" is not binding "a" + domain "bc".
  resolver.Resolve({.binding = "ab", .domain = "c"}, LimitUnit::kConnection);
  resolver.Resolve({.binding = "a", .domain = "bc"}, LimitUnit::kConnection);
  EXPECT_EQ(resolver.cached(), 4u);
  for (size_t i = resolver.cached(); i < LimitResolver::kMaxEntries; ++i) {
    resolver.Resolve({.domain = "d" + std::to_string(i) + ".test"}, LimitUnit::kConnection);
  }
  EXPECT_EQ(resolver.cached(), LimitResolver::kMaxEntries);
  EXPECT_EQ(resolver.Resolve({.domain = "new.test"}, LimitUnit::kConnection),
            (std::vector<LimitRule>{{"outbound_domains/new.test", 2, 0}}));
  EXPECT_EQ(resolver.cached(), 1u);
}

}  // namespace
}  // namespace ec::mta::cluster
