#include "msgc/bus_config.h"

#include <gtest/gtest.h>

#include "common/config/loader.h"

namespace ec::msgc {
namespace {

std::shared_ptr<const config::Config> Parse(const std::string& text) {
  config::LoadOptions load;
  load.allow_includes = false;
  config::Diagnostics diags;
  auto c = config::ParseConfigString(text, "/etc/conf/global/msgc_server.conf", load, &diags);
  EXPECT_FALSE(config::HasErrors(diags));
  return c;
}

TEST(BusConfig, ReadsPeersTimersAndKeys) {
  auto c = Parse(R"(
msgc_server {
  peers = [ node1 = "127.0.0.2" manager = "127.0.0.10" ]
  port = 14809
  heartbeat_interval = 0.1
  dead_timeout = 0.5
  request_timeout = 2
  health_report_interval = 1.5
}
cluster { view_mature_time = 3 control_group = "ctl" }
)");
  ASSERT_TRUE(HasBusConfig(*c));
  auto r = BusConfigFromConfig(*c, "node1", "/root/etc/msgc.key");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bus.self, "node1");
  EXPECT_EQ(r->bus.peers.size(), 2u);
  EXPECT_EQ(r->bus.peers.at("manager"), "127.0.0.10");
  EXPECT_EQ(r->bus.port, 14809);
  EXPECT_EQ(r->bus.heartbeat_interval.count(), 100);
  EXPECT_EQ(r->bus.dead_timeout.count(), 500);
  EXPECT_EQ(r->bus.view_mature_time.count(), 3000);
  EXPECT_EQ(r->request_timeout.count(), 2000);
  EXPECT_EQ(r->health_interval.count(), 1500);
  EXPECT_EQ(r->control_group, "ctl");
  EXPECT_EQ(r->bus.curve.secret_key_file, "/root/etc/msgc.key");
  EXPECT_EQ(r->bus.curve.public_key_dir, "/etc/conf/global/msgc_keys");
}

TEST(BusConfig, DefaultsAndPlainText) {
  auto c = Parse(R"(msgc_server { peers = [ a = "127.0.0.2" ] curve = false })");
  auto r = BusConfigFromConfig(*c, "a", "/k");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bus.port, 4809);
  EXPECT_EQ(r->bus.heartbeat_interval.count(), 250);
  EXPECT_EQ(r->bus.dead_timeout.count(), 1500);
  EXPECT_FALSE(r->bus.curve.enabled());
}

TEST(BusConfig, Refusals) {
  EXPECT_FALSE(HasBusConfig(*Parse("pidfile = \"/x\"")));
  EXPECT_FALSE(BusConfigFromConfig(*Parse("pidfile = \"/x\""), "a", "/k").ok());
  // Not listed.
  auto r = BusConfigFromConfig(*Parse(R"(msgc_server { peers = [ a = "127.0.0.2" ] })"), "b", "/k");
  EXPECT_FALSE(r.ok());
  // Upper-case names break msgc (Momentum's rule too).
  r = BusConfigFromConfig(*Parse(R"(msgc_server { peers = [ Node1 = "127.0.0.2" ] })"), "Node1",
                          "/k");
  EXPECT_FALSE(r.ok());
  // Dead timeout under three heartbeats.
  r = BusConfigFromConfig(
      *Parse(
          R"(msgc_server { peers = [ a = "127.0.0.2" ] heartbeat_interval = 1 dead_timeout = 2 })"),
      "a", "/k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("3 heartbeat"), std::string::npos) << r.status().ToString();
  r = BusConfigFromConfig(*Parse(R"(msgc_server { peers = [ a = "127.0.0.2" ] port = 0 })"), "a",
                          "/k");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("msgc_server.conf:1"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace ec::msgc
