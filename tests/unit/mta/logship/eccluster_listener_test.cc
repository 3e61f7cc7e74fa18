// `enable = false` on an ECCluster_Listener or one of its Listen scopes: that address is not
// opened (a real channel server on 127.0.0.1, any port, for the ones that are).
#include "mta/logship/eccluster_listener.h"

#include <gtest/gtest.h>

#include "tests/unit/common/config/test_util.h"
#include "tests/unit/eccluster/channel_test_util.h"

namespace ec::logship {
namespace {

class EcclusterListenerEnableTest : public ::testing::Test {
 protected:
  // How many addresses the listener opens for `conf`; -1 when Start fails.
  int OpenedFor(const std::string& conf) {
    config::Diagnostics diags;
    auto config = config::testing::Parse(conf, &diags);
    EXPECT_TRUE(diags.empty());
    int opened = -1;
    loop_.Run([&] {
      auto journals = LogJournals::Open({}, 0).value();
      msgc::BusConfig bus;
      bus.bus.curve = keys_.Curve("node1");
      bus.bus.peers = {{"node1", "127.0.0.1:1"}, {"node2", "127.0.0.1:2"}};
      auto listener = EcclusterListener::Start(loop_.base(), *config, *journals, &bus);
      EXPECT_TRUE(listener.ok()) << listener.status().ToString();
      if (listener.ok()) opened = *listener ? static_cast<int>((*listener)->addresses().size()) : 0;
    });
    return opened;
  }

  eccluster::testing::KeyDir keys_{{"node1", "node2"}};
  eccluster::testing::LoopThread loop_;
};

TEST_F(EcclusterListenerEnableTest, EveryListenOpensByDefault) {
  EXPECT_EQ(OpenedFor("ECCluster_Listener {\n  Listen \"127.0.0.1:0\" { }\n"
                      "  Listen \"127.0.0.2:0\" { }\n}\n"),
            2);
}

TEST_F(EcclusterListenerEnableTest, ADisabledListenIsNotOpened) {
  EXPECT_EQ(OpenedFor("ECCluster_Listener {\n  Listen \"127.0.0.1:0\" { enable = false }\n"
                      "  Listen \"127.0.0.2:0\" { }\n}\n"),
            1);
}

TEST_F(EcclusterListenerEnableTest, ADisabledListenerOpensNothing) {
  EXPECT_EQ(OpenedFor("ECCluster_Listener {\n  enable = false\n  Listen \"127.0.0.1:0\" { }\n}\n"),
            0);
}

}  // namespace
}  // namespace ec::logship
