#include "duravip/stall.h"

#include <gtest/gtest.h>

namespace ec::duravip {
namespace {

using std::chrono::milliseconds;

// The integration test's timers: heartbeat 100 ms, dead_timeout 600 ms (the peers declare a
// silent node dead after 600 ms; it last spoke up to 100 ms before its stall).
TEST(PeersMayHaveDeclaredUsDeadTest, ShortGapsAreTrusted) {
  for (int gap : {0, 20, 50, 100, 199}) {
    EXPECT_FALSE(PeersMayHaveDeclaredUsDead(milliseconds(gap), milliseconds(100),
                                            milliseconds(600)))
        << gap;
  }
}

TEST(PeersMayHaveDeclaredUsDeadTest, AGapFromHalfTheTimeoutOnIsNot) {
  // From half the timeout, counting the heartbeat we may not have sent before the gap.
  for (int gap : {200, 201, 400, 500, 599, 600, 1000, 60000}) {
    EXPECT_TRUE(PeersMayHaveDeclaredUsDead(milliseconds(gap), milliseconds(100),
                                           milliseconds(600)))
        << gap;
  }
}

TEST(PeersMayHaveDeclaredUsDeadTest, AStallLongerThanTheDeadTimeoutIsAlwaysCaught) {
  // The case that let two nodes hold one address: the peers did declare us dead.
  for (int hb : {1, 50, 250, 1000}) {
    for (int dead : {hb, 3 * hb, 6 * hb, 1500, 10000}) {
      for (int gap : {dead - hb, dead, dead + 1, 2 * dead}) {
        if (gap < 0) continue;
        EXPECT_TRUE(PeersMayHaveDeclaredUsDead(milliseconds(gap), milliseconds(hb),
                                               milliseconds(dead)))
            << gap << " " << hb << " " << dead;
      }
    }
  }
}

TEST(PeersMayHaveDeclaredUsDeadTest, DefaultTimersAndTheTickInterval) {
  // Defaults: heartbeat 250 ms, dead_timeout 1500 ms; DuraVIP ticks every 100 ms at most.
  EXPECT_FALSE(PeersMayHaveDeclaredUsDead(milliseconds(100), milliseconds(250),
                                          milliseconds(1500)));
  EXPECT_FALSE(PeersMayHaveDeclaredUsDead(milliseconds(499), milliseconds(250),
                                          milliseconds(1500)));
  EXPECT_TRUE(PeersMayHaveDeclaredUsDead(milliseconds(500), milliseconds(250),
                                         milliseconds(1500)));
  // An odd timeout: 2 * (gap + hb) >= 1501 from gap 501 on.
  EXPECT_FALSE(PeersMayHaveDeclaredUsDead(milliseconds(500), milliseconds(250),
                                          milliseconds(1501)));
  EXPECT_TRUE(PeersMayHaveDeclaredUsDead(milliseconds(501), milliseconds(250),
                                         milliseconds(1501)));
}

}  // namespace
}  // namespace ec::duravip
