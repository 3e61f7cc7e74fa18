// ValidateClusterLimits and ReadReplicateScopes: every cluster limit set anywhere without the
// Replicate type that carries it is refused with its file:line, all problems at once; the type
// defaults to the Replicate's name in any case; max_delay must be over 0 and at most 60 s.
// Problems come in file order.
#include <gmock/gmock.h>

#include "mta/cluster/shared_limits_config.h"
#include "tests/unit/common/config/test_util.h"
#include "tests/unit/mta/cluster/limits_test_util.h"

namespace ec::mta::cluster {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Problems(const std::string& text) { return ValidationProblems(text); }

constexpr char kEveryLimit[] = R"(cluster_max_outbound_connections = 5
Binding_Group "g" {
  Binding "b" { Host "192.0.2.1" { cluster_scope_max_outbound_connections = 2 } }
  cluster_outbound_throttle_messages = "10/60"
  cluster_server_max_outbound_connections = 3
}
Domain "d.test" { cluster_outbound_throttle_connections = 4 }
)";

TEST(ValidateClusterLimitsTest, EveryLimitWithoutItsReplicateIsReportedWithItsLine) {
  EXPECT_THAT(
      Problems(kEveryLimit),
      ElementsAre(
          "t.conf:1: cluster_max_outbound_connections needs Replicate \"outbound_domains\" in "
          "cluster { }",
          "t.conf:3: cluster_scope_max_outbound_connections needs Replicate "
          "\"outbound_binding_domains\" in cluster { }",
          "t.conf:4: cluster_outbound_throttle_messages needs Replicate \"OBTM\" in cluster { }",
          "t.conf:5: cluster_server_max_outbound_connections needs Replicate \"outbound_cidr\" in "
          "cluster { }",
          "t.conf:7: cluster_outbound_throttle_connections needs Replicate \"OBTC\" in cluster { "
          "}"));
  // The full message keeps the column: file:line:column.
  Status s = ValidateClusterLimits(*ParseValid(kEveryLimit));
  EXPECT_THAT(s.message(), HasSubstr("t.conf:1:1: cluster_max_outbound_connections needs"));
}

TEST(ValidateClusterLimitsTest, EachReplicateCoversExactlyItsLimit) {
  const std::vector<std::pair<std::string, std::string>> replicates = {
      {"outbound_domains", "t.conf:1: cluster_max_outbound_connections"},
      {"outbound_binding_domains", "t.conf:3: cluster_scope_max_outbound_connections"},
      {"OBTM", "t.conf:4: cluster_outbound_throttle_messages"},
      {"outbound_cidr", "t.conf:5: cluster_server_max_outbound_connections"},
      {"OBTC", "t.conf:7: cluster_outbound_throttle_connections"},
  };
  for (size_t missing = 0; missing < replicates.size(); ++missing) {
    std::string text = kEveryLimit;
    text += "cluster {\n";
    for (size_t i = 0; i < replicates.size(); ++i) {
      if (i != missing) text += "  Replicate \"" + replicates[i].first + "\" { }\n";
    }
    text += "}\n";
    std::vector<std::string> problems = Problems(text);
    ASSERT_EQ(problems.size(), 1u) << text;
    EXPECT_THAT(problems[0], HasSubstr(replicates[missing].second + " needs Replicate \"" +
                                       replicates[missing].first + "\""));
  }
}

TEST(ValidateClusterLimitsTest, TypeDefaultsToTheNameInAnyCaseOrIsGiven) {
  std::string text = std::string(kEveryLimit) + R"(cluster {
  Replicate "OUTBOUND_DOMAINS" { }
  Replicate "outbound_binding_domains" { }
  Replicate "obtm" { }
  Replicate "cidr" { type = "outbound_cidr" }
  Replicate "conn_throttles" { type = OBTC }
}
)";
  EXPECT_TRUE(Problems(text).empty());
  // A Replicate named like a type but typed otherwise does not carry that type.
  EXPECT_THAT(Problems(std::string(kEveryLimit) + R"(cluster {
  Replicate "outbound_domains" { type = "obtc" }
  Replicate "outbound_binding_domains" { }
  Replicate "OBTM" { }
  Replicate "outbound_cidr" { }
  Replicate "OBTC" { }
}
)"),
              ElementsAre(HasSubstr("t.conf:1: cluster_max_outbound_connections needs")));
}

TEST(ValidateClusterLimitsTest, UnsetMinusOneAndZeroThrottlesNeedNoReplicate) {
  EXPECT_TRUE(Problems("").empty());
  EXPECT_TRUE(Problems(R"(cluster_max_outbound_connections = -1
Domain "d.test" {
  cluster_scope_max_outbound_connections = -1
  cluster_outbound_throttle_messages = 0
  cluster_outbound_throttle_connections = "0/60"
}
Binding "b" { cluster_server_max_outbound_connections = -1 }
)")
                  .empty());
  // 0 connections is a limit.
  EXPECT_THAT(Problems("Host \"192.0.2.1\" { cluster_max_outbound_connections = 0 }\n"),
              ElementsAre(HasSubstr("t.conf:1: cluster_max_outbound_connections needs")));
}

TEST(ValidateClusterLimitsTest, MaxDelayMustBeOverZeroAndAtMostAMinute) {
  auto with_delay = [](const std::string& delay) {
    return "cluster {\n  Replicate \"outbound_domains\" { }\n  Replicate \"OBTM\" {\n"
           "    max_delay = " +
           delay + "\n  }\n}\n";
  };
  EXPECT_TRUE(Problems(with_delay("60")).empty());
  EXPECT_TRUE(Problems(with_delay("0.001")).empty());
  EXPECT_THAT(Problems(with_delay("0")),
              ElementsAre("t.conf:4: max_delay of Replicate \"OBTM\" must be more than 0 and at "
                          "most 60 seconds"));
  EXPECT_THAT(Problems(with_delay("61")), ElementsAre(HasSubstr("t.conf:4: max_delay")));
  // Both kinds of problem at once, in file order.
  EXPECT_THAT(Problems(with_delay("3600") + "cluster_outbound_throttle_connections = 1\n"),
              ElementsAre(HasSubstr("t.conf:4: max_delay"),
                          HasSubstr("t.conf:7: cluster_outbound_throttle_connections needs")));
}

TEST(ReadReplicateScopesTest, DefaultsAndSettings) {
  auto config = ParseValid(R"(cluster {
  Replicate "OBTM" { max_delay = 2.5 max_pending = 7 binding_group = "g" }
  Replicate "outbound_domains" { }
  Replicate "x" { type = Outbound_CIDR }
}
)",
                           {"t.conf:2:54: warning: option 'binding_group' is accepted but not "
                            "acted on yet (docs/config-reference.md: accepted)"});
  std::vector<ReplicateSpec> specs = ReadReplicateScopes(*config);
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].name, "OBTM");
  EXPECT_EQ(specs[0].type, "obtm");
  EXPECT_EQ(specs[0].max_delay, std::chrono::milliseconds(2500));
  EXPECT_EQ(specs[0].max_pending, 7u);
  EXPECT_EQ(specs[0].binding_group, "g");
  EXPECT_EQ(specs[1].type, "outbound_domains");
  EXPECT_EQ(specs[1].max_delay, std::chrono::milliseconds(1000));
  EXPECT_EQ(specs[1].max_pending, 100u);
  EXPECT_EQ(specs[1].binding_group, "");
  EXPECT_EQ(specs[2].name, "x");
  EXPECT_EQ(specs[2].type, "outbound_cidr");
  EXPECT_TRUE(ReadReplicateScopes(*ParseValid("")).empty());
}

TEST(RequiredReplicateTypeTest, Table) {
  EXPECT_EQ(RequiredReplicateType("cluster_max_outbound_connections"), "outbound_domains");
  EXPECT_EQ(RequiredReplicateType("cluster_server_max_outbound_connections"), "outbound_cidr");
  EXPECT_EQ(RequiredReplicateType("cluster_scope_max_outbound_connections"),
            "outbound_binding_domains");
  EXPECT_EQ(RequiredReplicateType("cluster_outbound_throttle_messages"), "obtm");
  EXPECT_EQ(RequiredReplicateType("cluster_outbound_throttle_connections"), "obtc");
  EXPECT_EQ(RequiredReplicateType("max_outbound_connections"), "");
}

}  // namespace
}  // namespace ec::mta::cluster
