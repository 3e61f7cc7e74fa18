// LoneWriterGauge: lone while syncs carry one message each, busy once they carry several, back
// to lone when they carry one again, and no flapping on a load that sits between the two.
#include "mta/spool/lone_writer_gauge.h"

#include <gtest/gtest.h>

namespace ec::spool {
namespace {

// Batches of `messages` noted until the gauge says `lone`; how many it took (or -1 after 1000).
int BatchesUntil(LoneWriterGauge& g, size_t messages, bool lone) {
  for (int n = 1; n <= 1000; ++n) {
    if (g.Note(messages) == lone) return n;
  }
  return -1;
}

TEST(LoneWriterGaugeTest, StartsLoneAndStaysSoWithOneMessagePerSync) {
  LoneWriterGauge g;
  EXPECT_TRUE(g.lone());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(g.Note(1));
  EXPECT_DOUBLE_EQ(g.average(), 1.0);
}

TEST(LoneWriterGaugeTest, SharedSyncsMakeItBusyAfterAFewBatches) {
  // Two per sync: the average passes 1.2 after 4 batches ((15/16)^4 < 0.8 < (15/16)^3).
  LoneWriterGauge two;
  EXPECT_EQ(BatchesUntil(two, 2, false), 4);
  // Twenty per sync: at once.
  LoneWriterGauge twenty;
  EXPECT_EQ(BatchesUntil(twenty, 20, false), 1);
  // A single batch of four among lone ones does not stop the zeros (1 + 3/16 < 1.2).
  LoneWriterGauge burst;
  EXPECT_TRUE(burst.Note(4));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(burst.Note(1));
}

TEST(LoneWriterGaugeTest, LoneAgainOnceSyncsCarryOneMessage) {
  LoneWriterGauge g;
  ASSERT_EQ(BatchesUntil(g, 20, false), 1);
  const int n = BatchesUntil(g, 1, true);
  EXPECT_GT(n, 0);
  EXPECT_LT(g.average(), LoneWriterGauge::kLone);
  // From 2.1875 (the first batch of 20) down below 1.05: (15/16)^n < 0.05 / 1.1875.
  EXPECT_EQ(n, 50);
}

TEST(LoneWriterGaugeTest, DoesNotFlapBetweenTheThresholds) {
  // One batch of `high` messages in every `period`: averages 1.5 and 2 (above the upper
  // threshold) and 1.1 (between the two).
  struct Load {
    int period;
    size_t high;
  };
  for (Load load : {Load{2, 2}, Load{2, 3}, Load{10, 2}}) {
    LoneWriterGauge g;
    int flips = 0;
    bool last = g.lone();
    for (int i = 0; i < 2000; ++i) {
      const bool now = g.Note(i % load.period == load.period - 1 ? load.high : 1);
      flips += now != last;
      last = now;
    }
    EXPECT_LE(flips, 1) << "period " << load.period << " high " << load.high;
  }
}

}  // namespace
}  // namespace ec::spool
