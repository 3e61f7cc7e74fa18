// Which subscribers a manager reads on a node (Logs { Manager { Node { subscriber } } }), and a
// node's subcluster from its bus groups.
#include "manager/logs/subscriptions.h"

#include <gtest/gtest.h>

#include <set>

#include "common/config/loader.h"
#include "manager/logs/logs_config.h"

namespace ec::logcollect {
namespace {

std::shared_ptr<const config::Config> Parse(const std::string& text) {
  config::Diagnostics diags;
  config::LoadOptions options;
  auto c = config::ParseConfigString(text, "<test>", options, &diags);
  EXPECT_TRUE(diags.empty()) << text;
  return c;
}

using Names = std::vector<std::string>;

TEST(SubscriptionsTest, DefaultIsOwnNameThenMaster) {
  auto c = Parse("Logs { logfile = \"/l/%{l}/%{n}\" }\n");
  EXPECT_EQ(SubscribersFor(*c, "mgr1", "node1").value(), (Names{"mgr1", "master"}));
  EXPECT_EQ(SubscribersFor(*c, "master", "node1").value(), (Names{"master"}));
}

TEST(SubscriptionsTest, NodeScopeWinsOverManagerScopeAndOnlyForThatManager) {
  auto c = Parse(R"(Logs {
  Manager "east" {
    subscriber = ( "e" )
    Node "west1" { subscriber = ( ) }
    Node "east2" { subscriber = ( "x" "y" ) }
  }
  Manager "west" { Node "east1" { subscriber = ( ) } }
}
)");
  EXPECT_EQ(SubscribersFor(*c, "east", "east1").value(), (Names{"e"}));
  EXPECT_EQ(SubscribersFor(*c, "east", "east2").value(), (Names{"x", "y"}));
  EXPECT_EQ(SubscribersFor(*c, "east", "west1").value(), Names{});
  EXPECT_EQ(SubscribersFor(*c, "west", "east1").value(), Names{});
  EXPECT_EQ(SubscribersFor(*c, "west", "west1").value(), (Names{"west", "master"}));
  EXPECT_EQ(SubscribersFor(*c, "other", "west1").value(), (Names{"other", "master"}));
}

TEST(SubscriptionsTest, NodeForSkipsSelfStrangersAndExcludedNodes) {
  auto c = Parse(R"(Logs {
  logfile = "/l/%Y/%{l}/%{s}/%{n}"
  eccluster_port = 4900
  Manager "mgr" { Node "node2" { subscriber = ( ) } }
}
)");
  auto setup = CollectorSetupFromConfig(*c, "mgr", "/state");
  ASSERT_TRUE(setup.ok() && setup->has_value());
  std::map<std::string, std::string> peers = {
      {"mgr", "10.0.0.9"}, {"node1", "10.0.0.1"}, {"node2", "10.0.0.2"}, {"v6", "::1"}};
  auto n1 = CollectorNodeFor(*c, **setup, peers, "node1", "east");
  ASSERT_TRUE(n1.ok() && n1->has_value());
  EXPECT_EQ((*n1)->endpoint, "10.0.0.1:4900");
  EXPECT_EQ((*n1)->subcluster, "east");
  EXPECT_EQ((*n1)->subscribers, (Names{"mgr", "master"}));
  EXPECT_EQ((*CollectorNodeFor(*c, **setup, peers, "v6", "default"))->endpoint, "[::1]:4900");
  EXPECT_FALSE(CollectorNodeFor(*c, **setup, peers, "node2", "east")->has_value());
  EXPECT_FALSE(CollectorNodeFor(*c, **setup, peers, "mgr", "east")->has_value());
  EXPECT_FALSE(CollectorNodeFor(*c, **setup, peers, "stranger", "east")->has_value());
}

TEST(SubscriptionsTest, BadSubscriberNamesAreRefused) {
  auto c = Parse("Logs { Manager \"m\" { Node \"n\" { subscriber = ( \"a b\" ) } } }\n");
  EXPECT_FALSE(SubscribersFor(*c, "m", "n").ok());
}

TEST(SubscriptionsTest, SubclusterComesFromTheEcScGroup) {
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_console", "ec_sc_east", "ec_cluster"}),
            "east");
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_console", "ec_cluster"}), "default");
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_sc_"}), "default");
}

}  // namespace
}  // namespace ec::logcollect
