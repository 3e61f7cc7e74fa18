// The scheduler's bounce path against a real spool: a failed recipient becomes final (and the
// original leaves the spool) only after its DSN is durable, and a DSN the spool cannot write
// (ENOSPC, EIO injected through SpoolOptions::io) keeps the original queued until a retry writes
// it. Delivery fails for real: the route is a loopback port that refuses connections.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "common/event/event_base.h"
#include "mta/outbound/scheduler.h"
#include "mta/spool/record.h"
#include "tests/unit/mta/outbound/scheduler_test_util.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::outbound {
namespace {

using spool::QueueId;
using spool::RecipientState;
using spool::testing::ForEachRecord;
using spool::testing::TempDir;

constexpr auto kDeadline = std::chrono::seconds(20);

// A loopback port that refuses connections for as long as this lives (bound, not listening).
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EC_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    EC_CHECK(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

enum class Fault { kNone, kDiskFull, kSyncError };

class SchedulerBounce : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = event::EventBase::Create().value();
    OpenSpool();
    const std::string text = "Domain \"dead.test\" {\n  Routes = ( \"smtp://127.0.0.1:" +
                             std::to_string(refusing_.port()) +
                             "\" )\n  never_retry = true\n  retry_interval = 3600\n}\n"
                             "Domain \"src.test\" { suspend_delivery = true }\n";
    scheduler_ = testing::StartScheduler(base_.get(), spool_.get(), text);
  }
  void TearDown() override {
    scheduler_.reset();
    spool_.reset();
  }

  void OpenSpool() {
    spool::SpoolOptions options = testing::LoopSpoolOptions(dir_.path(), base_.get());
    options.io.pwritev = [this](int fd, const struct iovec* iov, int count, off_t off) {
      if (fault_ == Fault::kDiskFull) {
        errno = ENOSPC;
        return ssize_t{-1};
      }
      return ::pwritev(fd, iov, count, off);
    };
    options.io.fdatasync = [this](int fd) {
      if (fault_ == Fault::kSyncError) {
        errno = EIO;
        return -1;
      }
      return ::fdatasync(fd);
    };
    spool_ = spool::Spool::Open(options).value();
  }

  // The original message: from s@src.test to x@dead.test, stored and handed to the scheduler.
  QueueId Accept() { return testing::StoreAndAdd(*base_, *spool_, *scheduler_, {"x@dead.test"}); }

  bool Stored(QueueId id) const { return spool_->ReadMessage(id).ok(); }

  // Until the DSN's write failed and the scheduler dealt with it: the original back in its
  // queue, or (as before the fix) gone.
  void WaitForTheFailedBounce(QueueId original) {
    ASSERT_TRUE(base_->RunUntil(
        [&] {
          return spool_->stats().failed_batches >= 1 &&
                 (scheduler_->queued() == 1 || !Stored(original));
        },
        kDeadline));
  }

  TempDir dir_;
  RefusingPort refusing_;
  std::atomic<Fault> fault_{Fault::kNone};
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<spool::Spool> spool_;
  std::unique_ptr<Scheduler> scheduler_;
};

class SchedulerBounceFault : public SchedulerBounce, public ::testing::WithParamInterface<Fault> {};

// On disk, the DSN's record comes before the original's final state and its removal.
TEST_F(SchedulerBounce, BounceIsDurableBeforeTheOriginalIsFinal) {
  const QueueId original = Accept();
  // Four records on disk: the original, the DSN, the original's final state, its removal.
  ASSERT_TRUE(base_->RunUntil(
      [&] { return !Stored(original) && spool_->stats().records_committed == 4; }, kDeadline));
  EXPECT_EQ(scheduler_->stats().bounces, 1u);
  EXPECT_EQ(scheduler_->stats().permanent, 1u);
  ASSERT_EQ(spool_->size(), 1u);  // the DSN, held by its suspended domain
  const QueueId dsn = spool_->ListIds().front();
  EXPECT_EQ(spool_->ReadMessage(dsn)->envelope.rcpts[0].address, "s@src.test");

  std::vector<std::string> order;  // "dsn", "final" (update of the original), "remove"
  ForEachRecord(dir_.path(), [&](spool::ScannedRecord&& r) {
    if (auto* m = std::get_if<spool::MessageMeta>(&r.meta)) {
      if (m->id == dsn) order.push_back("dsn");
    } else if (auto* u = std::get_if<spool::UpdateMeta>(&r.meta)) {
      if (u->id == original) order.push_back("final");
    } else if (std::get<spool::RemoveMeta>(r.meta).id == original) {
      order.push_back("remove");
    }
  });
  EXPECT_EQ(order, (std::vector<std::string>{"dsn", "final", "remove"}));
}

// The DSN cannot be written: the original stays queued with its recipient pending (also on disk,
// for a restart), and once the spool works again a retry writes the DSN without another delivery
// attempt; only then does the original go.
TEST_P(SchedulerBounceFault, UnwritableBounceKeepsTheOriginal) {
  const QueueId original = Accept();
  fault_ = GetParam();
  ASSERT_NO_FATAL_FAILURE(WaitForTheFailedBounce(original));
  EXPECT_EQ(scheduler_->stats().bounces, 0u);
  EXPECT_EQ(scheduler_->stats().permanent, 1u);  // P is logged: the remote's answer is final
  ASSERT_TRUE(Stored(original));
  EXPECT_EQ(spool_->ReadMessage(original)->states[0].kind, RecipientState::Kind::kPending);
  EXPECT_EQ(spool_->size(), 1u);
  const uint64_t connections = scheduler_->stats().connections_opened;

  fault_ = Fault::kNone;
  EXPECT_EQ(scheduler_->RetryNow("dead.test"), 1u);
  ASSERT_TRUE(base_->RunUntil([&] { return !Stored(original) && scheduler_->stats().bounces == 1; },
                              kDeadline));
  EXPECT_EQ(scheduler_->stats().connections_opened, connections);
  EXPECT_EQ(scheduler_->queued(), 1u);  // the DSN, waiting for src.test

  // A restart finds the DSN and not the original.
  scheduler_.reset();
  spool_.reset();
  OpenSpool();
  ASSERT_EQ(spool_->size(), 1u);
  auto dsn = spool_->ReadMessage(spool_->ListIds().front());
  ASSERT_TRUE(dsn.ok());
  EXPECT_EQ(dsn->envelope.mail_from, "");
  EXPECT_EQ(dsn->envelope.rcpts[0].address, "s@src.test");
}

// While the DSN cannot be written, a restart brings back the original with its recipient
// pending: it is tried again, never lost.
TEST_P(SchedulerBounceFault, RestartWhileTheBounceIsOwedKeepsTheOriginal) {
  const QueueId original = Accept();
  fault_ = GetParam();
  ASSERT_NO_FATAL_FAILURE(WaitForTheFailedBounce(original));
  scheduler_.reset();
  spool_.reset();
  fault_ = Fault::kNone;
  OpenSpool();
  auto msg = spool_->ReadMessage(original);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->states[0].kind, RecipientState::Kind::kPending);
}

INSTANTIATE_TEST_SUITE_P(Faults, SchedulerBounceFault,
                         ::testing::Values(Fault::kDiskFull, Fault::kSyncError),
                         [](const auto& info) {
                           return info.param == Fault::kDiskFull ? "DiskFull" : "SyncError";
                         });

}  // namespace
}  // namespace ec::outbound
