// The scheduler's #mmove hooks (docs/mmove.md): HeldMessages lists a message only when every
// open domain of it waits in one held binding's queue (ready or delayed), and Withdraw takes
// such messages out of every queue until Add() queues them again. No delivery is attempted:
// the held binding and the other domain's queue are suspended.
#include <gtest/gtest.h>

#include "common/event/event_base.h"
#include "mta/outbound/scheduler.h"
#include "tests/unit/mta/outbound/scheduler_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::outbound {
namespace {

using spool::QueueId;
using Held = std::vector<std::pair<QueueId, std::string>>;

class SchedulerHeld : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event::EventBase::Create().value();
    spool_ = spool::testing::OpenOrDie(spool::testing::QuietOptions(dir_.path()));
    const std::string text =
        "Binding \"pool-a\" { }\nBinding \"pool-b\" { }\n"
        "Domain \"other.test\" { suspend_delivery = true }\n";
    scheduler_ = testing::StartScheduler(base_.get(), spool_.get(), text);
    scheduler_->SetHeldBindings({"pool-a", "pool-b"});
  }
  void TearDown() override {
    scheduler_.reset();
    spool_.reset();
  }
  void Add(uint64_t id, std::vector<std::string> rcpts, const std::string& binding,
           std::vector<spool::RecipientState> states = {}) {
    scheduler_->Add(QueueId(id), rcpts, states, {binding, ""});
  }

  spool::testing::TempDir dir_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<spool::Spool> spool_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerHeld, ListsMessagesWaitingOnlyInOneHeldBinding) {
  Add(1, {"a@x.test"}, "pool-a");
  Add(2, {"a@x.test", "b@y.test"}, "pool-b");          // two domains, both held
  Add(3, {"a@x.test", "c@other.test"}, "");            // default binding: not held
  Add(4, {"a@x.test"}, "");                            // not held
  // Delayed (a retry due in an hour) counts as waiting too.
  spool::RecipientState later;
  later.next_attempt_us = (int64_t{1} << 60);
  Add(5, {"a@z.test"}, "pool-a", {later});
  EXPECT_EQ(scheduler_->HeldMessages(100),
            (Held{{QueueId(1), "pool-a"}, {QueueId(2), "pool-b"}, {QueueId(5), "pool-a"}}));
  EXPECT_EQ(scheduler_->HeldMessages(2),
            (Held{{QueueId(1), "pool-a"}, {QueueId(2), "pool-b"}}));
  // No longer held: nothing to move.
  scheduler_->SetHeldBindings({"pool-b"});
  EXPECT_EQ(scheduler_->HeldMessages(100), (Held{{QueueId(2), "pool-b"}}));
}

TEST_F(SchedulerHeld, WithdrawTakesMessagesOutUntilAddedAgain) {
  Add(1, {"a@x.test"}, "pool-a");
  Add(2, {"a@x.test", "b@y.test"}, "pool-a");
  spool::RecipientState later;
  later.next_attempt_us = (int64_t{1} << 60);
  Add(3, {"a@z.test"}, "pool-a", {later});
  const size_t before = scheduler_->queued();
  scheduler_->Withdraw({QueueId(2), QueueId(3)});
  EXPECT_EQ(scheduler_->HeldMessages(100), (Held{{QueueId(1), "pool-a"}}));
  // Message 2's entry in each of its two domains, and message 3's delayed one.
  EXPECT_EQ(before, 4u);
  EXPECT_EQ(scheduler_->queued(), 1u);
  // A failed move: queued again, listed again.
  Add(2, {"a@x.test", "b@y.test"}, "pool-a");
  EXPECT_EQ(scheduler_->HeldMessages(100),
            (Held{{QueueId(1), "pool-a"}, {QueueId(2), "pool-a"}}));
}

}  // namespace
}  // namespace ec::outbound
