// Which spool records a delivery leaves on disk, against a real spool and a counting SMTP server
// on 127.0.0.1: a message delivered to every recipient in one transaction is removed with one
// record, no final-state update before it; a message for two domains keeps the update of the
// domain that finished first (the other may still fail), then its removal.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/outbound/scheduler.h"
#include "tests/unit/mta/outbound/counting_smtp_server.h"
#include "tests/unit/mta/outbound/scheduler_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::outbound {
namespace {

using namespace std::chrono_literals;
using spool::QueueId;
using spool::testing::ForEachRecord;
using testing::CountingSmtpServer;

constexpr auto kDeadline = std::chrono::seconds(20);

class SchedulerRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event::EventBase::Create().value();
    spool::SpoolOptions options = testing::LoopSpoolOptions(dir_.path(), base_.get());
    spool_ = spool::Spool::Open(options).value();
    tick_ = std::make_unique<event::Timer>(*base_, [] {});  // the server counts on its threads
    tick_->StartRepeating(10ms);
    scheduler_ = testing::StartScheduler(
        base_.get(), spool_.get(),
        testing::RouteTo("a.test", server_.port()) + testing::RouteTo("b.test", server_.port()));
  }
  void TearDown() override {
    tick_.reset();
    scheduler_.reset();
    spool_.reset();
  }

  QueueId Accept(const std::vector<std::string>& rcpts) {
    return testing::StoreAndAdd(*base_, *spool_, *scheduler_, rcpts);
  }

  // The records about `id` in the segments, in order: "message", "update", "remove".
  std::vector<std::string> RecordsOf(QueueId id) {
    std::vector<std::string> kinds;
    ForEachRecord(dir_.path(), [&](spool::ScannedRecord&& r) {
      if (auto* m = std::get_if<spool::MessageMeta>(&r.meta)) {
        if (m->id == id) kinds.push_back("message");
      } else if (auto* u = std::get_if<spool::UpdateMeta>(&r.meta)) {
        if (u->id == id) kinds.push_back("update");
      } else if (std::get<spool::RemoveMeta>(r.meta).id == id) {
        kinds.push_back("remove");
      }
    });
    return kinds;
  }

  // Until `id` is gone from the spool and its removal is written.
  void WaitRemoved(QueueId id) {
    ASSERT_TRUE(base_->RunUntil(
        [&] {
          if (spool_->size() != 0) return false;
          const auto kinds = RecordsOf(id);
          return !kinds.empty() && kinds.back() == "remove";
        },
        kDeadline));
  }

  spool::testing::TempDir dir_;
  CountingSmtpServer server_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<spool::Spool> spool_;
  std::unique_ptr<event::Timer> tick_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerRecords, DeliveredMessageIsRemovedWithoutAFinalUpdate) {
  const QueueId id = Accept({"x@a.test", "y@a.test"});
  WaitRemoved(id);
  EXPECT_EQ(server_.messages(), 1u);
  EXPECT_EQ(RecordsOf(id), (std::vector<std::string>{"message", "remove"}));
}

TEST_F(SchedulerRecords, MessageForTwoDomainsKeepsEachDomainsUpdate) {
  const QueueId id = Accept({"x@a.test", "y@b.test"});
  WaitRemoved(id);
  EXPECT_EQ(server_.messages(), 2u);
  const auto kinds = RecordsOf(id);
  // The domain that finished first wrote its final state while the other's was open.
  ASSERT_GE(kinds.size(), 3u);
  EXPECT_EQ(kinds.front(), "message");
  EXPECT_EQ(kinds[1], "update");
  EXPECT_EQ(kinds.back(), "remove");
}

}  // namespace
}  // namespace ec::outbound
