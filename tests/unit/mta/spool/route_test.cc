// Spool::ForEachRoute: the routes Open's scan kept give the scheduler exactly what reading
// every envelope again (ForEachMessage) would, whatever happened since Open.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::spool {
namespace {

using testing::MakeBody;
using testing::MakeEnvelope;
using testing::OpenOrDie;
using testing::QuietOptions;
using testing::ReadFile;
using testing::SegmentFiles;
using testing::SubmitAndWait;
using testing::TempDir;
using testing::Waiter;
using testing::WriteFile;

struct Visit {
  QueueId id;
  MessageRoute route;
  std::vector<RecipientState> states;
  bool operator==(const Visit&) const = default;
};

std::vector<Visit> ViaRoutes(Spool& spool) {
  std::vector<Visit> out;
  Status s = spool.ForEachRoute(
      [&](QueueId id, const MessageRoute& route, std::span<const RecipientState> states) {
        out.push_back({id, route, std::vector<RecipientState>(states.begin(), states.end())});
      });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// The oracle: every envelope read from disk.
std::vector<Visit> ViaEnvelopes(Spool& spool) {
  std::vector<Visit> out;
  Status s = spool.ForEachMessage([&](SpooledMessage&& m) {
    out.push_back({m.id, RouteOf(m.envelope), m.states});
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

Envelope Routed(const std::string& tag, std::vector<std::string> rcpts, std::string binding = "",
                std::string group = "") {
  Envelope e = MakeEnvelope(tag, 0);
  for (std::string& r : rcpts) e.rcpts.push_back({std::move(r), "", 0});
  e.binding = std::move(binding);
  e.binding_group = std::move(group);
  return e;
}

SpoolOptions Keeping(const std::string& dir, bool keep = true) {
  SpoolOptions options = QuietOptions(dir);
  options.keep_routes = keep;
  return options;
}

TEST(SpoolRouteTest, KeptRoutesGiveWhatTheEnvelopesSay) {
  TempDir dir;
  std::vector<QueueId> ids;
  const RecipientState done{RecipientState::Kind::kDone, 1, 0};
  const RecipientState retry{RecipientState::Kind::kPending, 3, 1800000000000000};
  std::vector<std::string> many;  // too long a route to keep: read again
  for (int i = 0; i < 300; ++i) many.push_back("u@d" + std::to_string(100000 + i) + ".tst");
  {
    auto spool = OpenOrDie(Keeping(dir.path()));
    for (const Envelope& e : {Routed("a", {"a@X.test"}),
                              Routed("b", {"b@d1.test", "c@D2.test", "local"}, "b1"),
                              Routed("c", {"c@d1.test"}, "", "g1"), Routed("d", many),
                              Routed("e", {"e@X.test"}), Routed("f", {"f@gone.test"})}) {
      ids.push_back(SubmitAndWait(*spool, e, MakeBody(e.dsn_envid)).value());
    }
    ASSERT_TRUE(spool->Update(ids[1], {{1, done}, {0, retry}}).ok());
    ASSERT_TRUE(spool->Remove(ids[5]).ok());
  }
  auto spool = OpenOrDie(Keeping(dir.path()));
  // Since Open: states change, a message goes, its id comes back with another envelope, and a
  // new one arrives; none of them may be served from what the scan kept.
  ASSERT_TRUE(spool->Update(ids[4], {{0, retry}}).ok());
  ASSERT_TRUE(spool->Remove(ids[2]).ok());
  ASSERT_TRUE(spool->Remove(ids[0]).ok());
  ASSERT_TRUE(
      SubmitAndWait(*spool, ids[0], Routed("a2", {"a@other.test", "b@x.test"}), "x").ok());
  const QueueId late = SubmitAndWait(*spool, Routed("g", {"g@late.test"}, "b2"), "y").value();

  const std::vector<Visit> want = ViaEnvelopes(*spool);
  ASSERT_EQ(want.size(), 5u);  // ids 0 (again), 1, 3, 4 and the late one
  EXPECT_EQ(want[0].route.rcpt_domains, (std::vector<std::string>{"other.test", "x.test"}));
  EXPECT_EQ(want[1].states, (std::vector<RecipientState>{retry, done, {}}));
  EXPECT_EQ(want[1].route.binding, "b1");
  EXPECT_EQ(want[3].states, std::vector<RecipientState>{retry});
  EXPECT_EQ(want[4].id, late);
  EXPECT_EQ(ViaRoutes(*spool), want);
  // The kept routes are gone after the first call; the second reads, with the same result.
  EXPECT_EQ(ViaRoutes(*spool), want);

  spool.reset();
  auto plain = OpenOrDie(Keeping(dir.path(), /*keep=*/false));
  EXPECT_EQ(ViaRoutes(*plain), want);
}

// Compaction copies live messages forward. With the old segment still there (as after a crash
// before its unlink) the scan meets two records of one id and the index keeps the later: the
// message is visited once, with its route.
TEST(SpoolRouteTest, CompactedCopiesAreVisitedOnce) {
  TempDir dir;
  SpoolOptions options = Keeping(dir.path());
  options.segment_bytes = 16 * 1024;
  std::vector<QueueId> ids;
  std::filesystem::path first;
  std::string first_bytes;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 40; ++i) {
      const std::string tag = "k" + std::to_string(i);
      ids.push_back(SubmitAndWait(*spool, Routed(tag, {tag + "@d" + std::to_string(i % 3)}),
                                  MakeBody(tag))
                        .value());
    }
    first = SegmentFiles(dir.path()).front();
    first_bytes = ReadFile(first);
    Waiter<Status> last;
    for (int i = 1; i < 39; ++i) {
      ASSERT_TRUE(spool
                      ->Remove(ids[i], i == 38 ? Spool::DoneCallback([&](Status s) { last.Set(s); })
                                               : nullptr)
                      .ok());
    }
    ASSERT_TRUE(last.Wait().value_or(Internal("timeout")).ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (spool->stats().messages_moved == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_GE(spool->stats().messages_moved, 1u);
  }
  ASSERT_FALSE(std::filesystem::exists(first));  // reclaimed once ids[0] moved on
  WriteFile(first, first_bytes);
  auto spool = OpenOrDie(options);
  const std::vector<Visit> want = ViaEnvelopes(*spool);
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(want[0].id, ids[0]);
  EXPECT_EQ(want[1].id, ids[39]);
  EXPECT_EQ(want[0].route.rcpt_domains, std::vector<std::string>{"d0"});
  EXPECT_EQ(ViaRoutes(*spool), want);
}

}  // namespace
}  // namespace ec::spool
