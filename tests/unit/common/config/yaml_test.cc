// YAML views of the tree and of resolved values, read back with yaml-cpp.
#include <yaml-cpp/yaml.h>

#include "common/config/yaml_render.h"
#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

TEST(YamlTest, TreeRendersOptionsScopesAndLocations) {
  Diagnostics diags;
  auto c = testing::Parse(
      "spool_mode = \"0640\"\n"
      "max_outbound_connections = 1\n"
      "max_outbound_connections = 2\n"
      "relay_hosts = ( \"127.0.0.0/8\" 10.0.0.0/8 )\n"
      "ESMTP_Listener {\n"
      "  Listen \":25\" { }\n"
      "}\n"
      "cluster { logs = [ mainlog = \"/x\" ] }\n",
      &diags);
  ASSERT_TRUE(diags.empty());
  YAML::Node y = YAML::Load(TreeToYaml(*c));
  EXPECT_EQ(y["files"][0].as<std::string>(), "t.conf");
  YAML::Node g = y["global"];
  EXPECT_EQ(g["options"]["spool_mode"].as<std::string>(), "0640");
  EXPECT_EQ(g["options"]["max_outbound_connections"].as<int>(), 2);  // the last setting
  EXPECT_EQ(g["options"]["relay_hosts"][1].as<std::string>(), "10.0.0.0/8");
  YAML::Node listener = g["scopes"][0];
  EXPECT_EQ(listener["type"].as<std::string>(), "esmtp_listener");
  EXPECT_FALSE(listener["name"]);
  EXPECT_EQ(listener["location"].as<std::string>(), "t.conf:5:1");
  EXPECT_EQ(listener["scopes"][0]["name"].as<std::string>(), ":25");
  EXPECT_EQ(g["scopes"][1]["options"]["logs"]["mainlog"].as<std::string>(), "/x");
}

TEST(YamlTest, ResolvedValuesSayWhereTheyCameFrom) {
  Diagnostics diags;
  auto c = testing::Parse("Domain \"d.com\" { max_outbound_connections = 4 }\n", &diags);
  std::vector<Resolved> values;
  values.push_back(*Eval(*c, DefaultSchema(), {.domain = "d.com"}, "max_outbound_connections"));
  values.push_back(*Eval(*c, DefaultSchema(), {.domain = "d.com"}, "retry_interval"));
  YAML::Node y = YAML::Load(ResolvedToYaml(values));
  EXPECT_EQ(y["max_outbound_connections"]["value"].as<int>(), 4);
  EXPECT_EQ(y["max_outbound_connections"]["from"].as<std::string>(), "t.conf:1:18");
  EXPECT_EQ(y["max_outbound_connections"]["scope"].as<std::string>(), "domain \"d.com\"");
  EXPECT_EQ(y["retry_interval"]["value"].as<int>(), 1200);
  EXPECT_EQ(y["retry_interval"]["from"].as<std::string>(), "default");
}

}  // namespace
}  // namespace ec::config
