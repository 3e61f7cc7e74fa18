// What --check-config, start and reload say about DuraVIP options (vip_config.h).
#include "duravip/vip_config.h"

#include <gtest/gtest.h>

#include "common/config/loader.h"

namespace ec::duravip {
namespace {

config::Config Parse(const std::string& text) {
  config::Diagnostics diags;
  auto c = config::ParseConfigString(text, "<string>", config::LoadOptions{}, &diags);
  EC_CHECK(!config::HasErrors(diags));
  return *c;
}

std::string Problems(const std::string& text, std::vector<std::string> own = {}) {
  config::Config c = Parse(text);
  auto d = ReadDuravipConfig(c);
  if (!d.ok()) return d.status().message();
  return DiagnosticsStatus(ValidateDuravipConfig(c, *d, own)).message();
}

constexpr char kTopology[] =
    "cluster { Topology \"198.18.0.0/24\" { interface = \"eth1\" cidrmask = \"24\" } }\n";

TEST(DuravipConfig, ReadsListensBindingsFollowersAndTopology) {
  config::Config c = Parse(std::string(kTopology) +
                           "ESMTP_Listener {\n"
                           "  Listen \"198.18.0.100:25\" { Enable_Duravip = true "
                           "Duravip_Preference = \"node1\" }\n"
                           "  Listen \"198.18.0.102:25\" { Duravip_Follow = \"pool-a\" }\n"
                           "  Listen \"127.0.0.1:25\" { }\n"
                           "}\n"
                           "Binding \"pool-a\" { Bind_Address = \"198.18.0.101\" "
                           "Enable_Duravip = true }\n");
  auto d = ReadDuravipConfig(c);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->vips.size(), 2u);
  EXPECT_EQ(d->vips[0].vip, (VipConfig{"198.18.0.100", "listen", "", "node1"}));
  EXPECT_EQ(d->vips[1].vip, (VipConfig{"198.18.0.101", "binding", "pool-a", ""}));
  ASSERT_EQ(d->follows.size(), 1u);
  EXPECT_EQ(d->FollowedAddress(d->follows[0]), "198.18.0.101");
  EXPECT_EQ(d->Addresses(),
            (std::vector<std::string>{"198.18.0.100", "198.18.0.101", "198.18.0.102"}));
  const TopologyEntry* t = d->TopologyFor("198.18.0.100");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->interface, "eth1");
  EXPECT_EQ(t->prefix, 24);
  EXPECT_EQ(d->TopologyFor("198.19.0.1"), nullptr);
  EXPECT_EQ(Problems(std::string(kTopology) +
                     "ESMTP_Listener { Listen \"198.18.0.100:25\" { Enable_Duravip = true } }\n"),
            "");
}

TEST(DuravipConfig, FollowWithEnableIsRefused) {
  std::string p = Problems(std::string(kTopology) +
                           "ESMTP_Listener { Listen \"198.18.0.100:25\" {\n"
                           "  Enable_Duravip = true Duravip_Follow = \"198.18.0.101\" } }\n"
                           "Binding \"b\" { Bind_Address = \"198.18.0.101\" Enable_Duravip = true }\n");
  EXPECT_NE(p.find("Duravip_Follow cannot be combined with Enable_Duravip"), std::string::npos)
      << p;
  EXPECT_NE(p.find("<string>:"), std::string::npos) << "file:line missing: " << p;
}

TEST(DuravipConfig, OwnAddressIsRefused) {
  std::string p = Problems(std::string(kTopology) +
                               "ESMTP_Listener { Listen \"198.18.0.11:25\" { Enable_Duravip = "
                               "true } }\n",
                           {"198.18.0.11"});
  EXPECT_NE(p.find("this host's own address"), std::string::npos) << p;
}

TEST(DuravipConfig, OutsideEveryTopologyIsRefused) {
  std::string p = Problems(std::string(kTopology) +
                           "ESMTP_Listener { Listen \"198.19.0.100:25\" { Enable_Duravip = true "
                           "} }\n");
  EXPECT_NE(p.find("outside every cluster { Topology }"), std::string::npos) << p;
}

TEST(DuravipConfig, OneAddressTwoBindingNamesIsRefused) {
  std::string p = Problems(std::string(kTopology) +
                           "Binding \"a\" { Bind_Address = \"198.18.0.101\" Enable_Duravip = true }\n"
                           "Binding \"b\" { Bind_Address = \"198.18.0.101\" Enable_Duravip = true "
                           "}\n");
  EXPECT_NE(p.find("one address may carry one binding name only"), std::string::npos) << p;
}

TEST(DuravipConfig, WildcardAndMissingBindAddressAreRefused) {
  std::string p = Problems(std::string(kTopology) +
                           "ESMTP_Listener { Listen \":25\" { Enable_Duravip = true } }\n"
                           "Binding \"b\" { Enable_Duravip = true }\n");
  EXPECT_NE(p.find("not a wildcard"), std::string::npos) << p;
  EXPECT_NE(p.find("needs a Bind_Address"), std::string::npos) << p;
}

TEST(DuravipConfig, FollowerOfNothingIsRefused) {
  std::string p = Problems(std::string(kTopology) +
                           "ESMTP_Listener { Listen \"198.18.0.102:25\" { Duravip_Follow = "
                           "\"nope\" } }\n");
  EXPECT_NE(p.find("names no DuraVIP binding or address"), std::string::npos) << p;
}

TEST(DuravipConfig, TimersAndQuorumAreRead) {
  config::Config c = Parse(
      "cluster { view_balance_interval = 3 duravip_balance_set_size = 4 duravip_quorum = 2 "
      "if_down_limit = 0.5 }\n");
  auto d = ReadDuravipConfig(c);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->balance_interval, std::chrono::milliseconds(3000));
  EXPECT_EQ(d->balance_set_size, 4u);
  EXPECT_EQ(d->quorum, 2u);
  EXPECT_EQ(d->if_down_limit, std::chrono::milliseconds(500));
  EXPECT_TRUE(d->empty());
}

}  // namespace
}  // namespace ec::duravip
