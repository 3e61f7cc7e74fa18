// Scheduler::Recover at start: the queues built from the routes the spool's scan kept are the
// ones reading every envelope again builds (keep_routes off), recipient states included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/event/event_base.h"
#include "mta/outbound/scheduler.h"
#include "tests/unit/mta/outbound/scheduler_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::outbound {
namespace {

using spool::QueueId;
using spool::RecipientState;

spool::Envelope RecoverEnvelope(std::vector<std::string> rcpts, std::string binding = "") {
  spool::Envelope e;
  e.mail_from = "s@src.test";
  for (std::string& r : rcpts) e.rcpts.push_back({std::move(r), "", 0});
  e.received_us = 1700000000000000;
  e.binding = std::move(binding);
  return e;
}

// Fills a spool at `dir` the same way each time: ready, partly done, all done, deferred mail.
void FillSpool(const std::string& dir) {
  auto spool = spool::testing::OpenOrDie(spool::testing::QuietOptions(dir));
  auto put = [&](spool::Envelope e) {
    return spool::testing::SubmitAndWait(*spool, std::move(e), "Subject: x\r\n\r\nx\r\n").value();
  };
  put(RecoverEnvelope({"a@one.test"}));
  const QueueId multi = put(RecoverEnvelope({"b@One.TEST", "c@two.test", "d@two.test"}, "b1"));
  const QueueId done = put(RecoverEnvelope({"e@three.test"}));
  const QueueId later = put(RecoverEnvelope({"f@four.test", "g@one.test"}));
  const RecipientState delivered{RecipientState::Kind::kDone, 1, 0};
  const RecipientState deferred{RecipientState::Kind::kPending, 2, 4000000000000000};
  EC_CHECK(spool->Update(multi, {{1, delivered}}).ok());
  EC_CHECK(spool->Update(done, {{0, delivered}}).ok());
  EC_CHECK(spool->Update(later, {{0, deferred}}).ok());
}

struct RecoverResult {
  std::string summary;
  size_t queued = 0;
  uint64_t removed = 0;
  size_t spool_size = 0;
};

RecoverResult RecoverWith(bool keep_routes) {
  spool::testing::TempDir dir;
  FillSpool(dir.path());
  auto base = event::EventBase::Create().value();
  spool::SpoolOptions options = spool::testing::QuietOptions(dir.path());
  options.keep_routes = keep_routes;
  options.post = [b = base.get()](std::function<void()> fn) { b->RunInLoop(std::move(fn)); };
  auto spool = spool::testing::OpenOrDie(options);
  auto [config, global] = testing::ParseSchedulerConfig("suspend_delivery = true\n");
  Scheduler scheduler(
      SchedulerServices{.base = base.get(), .spool = spool.get(), .node_name = "n1"}, config,
      global);
  Status s = scheduler.Recover();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return {scheduler.QueueSummary(), scheduler.queued(), scheduler.stats().messages_removed,
          spool->size()};
}

TEST(SchedulerRecoverTest, KeptRoutesBuildTheQueuesReadingEnvelopesDoes) {
  const RecoverResult read = RecoverWith(/*keep_routes=*/false);
  const RecoverResult kept = RecoverWith(/*keep_routes=*/true);
  // (message, domain) entries: a one.test; b one.test, d two.test (c is done); f four.test
  // (deferred), g one.test. e's only recipient is done: its message leaves the spool.
  EXPECT_EQ(read.queued, 5u);
  EXPECT_EQ(read.removed, 1u);
  EXPECT_EQ(read.spool_size, 3u);
  EXPECT_NE(read.summary.find("one.test binding=default ready=3 delayed=0"), std::string::npos)
      << read.summary;
  EXPECT_NE(read.summary.find("two.test binding=default ready=1 delayed=0"), std::string::npos)
      << read.summary;
  EXPECT_NE(read.summary.find("four.test binding=default ready=0 delayed=1"), std::string::npos)
      << read.summary;
  EXPECT_EQ(read.summary.find("three.test"), std::string::npos) << read.summary;
  EXPECT_EQ(kept.summary, read.summary);
  EXPECT_EQ(kept.queued, read.queued);
  EXPECT_EQ(kept.removed, read.removed);
  EXPECT_EQ(kept.spool_size, read.spool_size);
}

}  // namespace
}  // namespace ec::outbound
