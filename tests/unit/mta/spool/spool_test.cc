// Spool behaviour as its users see it: submit, read, update, remove, reopen, torn files, group
// commit, disk full (injected and on a real small tmpfs).
#include "mta/spool/spool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "mta/spool/record.h"
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
namespace fs = std::filesystem;

TEST(SpoolTest, SubmittedMessagesSurviveReopen) {
  TempDir dir;
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(QuietOptions(dir.path()));
    for (int i = 0; i < 3; ++i) {
      auto id = SubmitAndWait(*spool, MakeEnvelope("m" + std::to_string(i)),
                              MakeBody("m" + std::to_string(i)));
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ids.push_back(*id);
    }
    EXPECT_EQ(spool->ReadBody(ids[1]).value(), MakeBody("m1"));
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), ids);
  for (int i = 0; i < 3; ++i) {
    auto msg = spool->ReadMessage(ids[i]);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    EXPECT_EQ(msg->envelope, MakeEnvelope("m" + std::to_string(i)));
    EXPECT_EQ(msg->states, std::vector<RecipientState>(2));
    EXPECT_EQ(spool->ReadBody(ids[i]).value(), MakeBody("m" + std::to_string(i)));
  }
  // Ids issued after a restart sort after every earlier one.
  auto next = SubmitAndWait(*spool, MakeEnvelope("late"), "x");
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, ids.back());
}

TEST(SpoolTest, SubmitWithIdFromNewId) {
  TempDir dir;
  QueueId early;
  {
    auto spool = OpenOrDie(QuietOptions(dir.path()));
    early = spool->NewId();
    const QueueId later = spool->NewId();
    EXPECT_GT(later, early);
    Waiter<Result<QueueId>> done;
    spool->Submit(early, MakeEnvelope("pre"), "pre", [&](Result<QueueId> r) { done.Set(r); });
    auto r = done.Wait();
    ASSERT_TRUE(r && r->ok());
    EXPECT_EQ(r->value(), early);
    // The same id twice is refused, the first message untouched.
    Waiter<Result<QueueId>> dup;
    spool->Submit(early, MakeEnvelope("dup"), "dup", [&](Result<QueueId> r2) { dup.Set(r2); });
    auto d = dup.Wait();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->status().code(), StatusCode::kInvalidArgument);
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), std::vector<QueueId>{early});
  EXPECT_EQ(spool->ReadBody(early).value(), "pre");
  EXPECT_GT(spool->NewId(), early);
}

TEST(SpoolTest, EmptyBodyAndRejectedEnvelope) {
  TempDir dir;
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  auto id = SubmitAndWait(*spool, MakeEnvelope("empty"), "");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(spool->ReadBody(*id).value(), "");
  auto bad = SubmitAndWait(*spool, MakeEnvelope("none", 0), "body");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  Envelope huge = MakeEnvelope("huge", 1);
  huge.rcpts[0].address.assign(kMaxMetaLen, 'a');
  EXPECT_EQ(SubmitAndWait(*spool, huge, "body").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spool->size(), 1u);
}

TEST(SpoolTest, RecipientUpdatesAreDurable) {
  TempDir dir;
  QueueId id;
  const RecipientState done{RecipientState::Kind::kDone, 1, 0};
  const RecipientState retry{RecipientState::Kind::kPending, 3, 1800000000000000};
  {
    auto spool = OpenOrDie(QuietOptions(dir.path()));
    id = SubmitAndWait(*spool, MakeEnvelope("u", 3), "body").value();
    Status s2 = spool->Update(id, {{2, done}});
    EXPECT_TRUE(s2.ok()) << s2.ToString();
    Waiter<Status> durable;
    ASSERT_TRUE(spool->Update(id, {{0, retry}}, [&](Status s) { durable.Set(s); }).ok());
    auto s = durable.Wait();
    ASSERT_TRUE(s && s->ok());
    // Visible at once in memory too.
    EXPECT_EQ(spool->ReadMessage(id)->states[2], done);
    EXPECT_EQ(spool->Update(id, {{3, done}}).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(spool->Update(id, {{0, done}, {0, done}, {0, done}, {0, done}}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(spool->Update(QueueId(12345), {{0, done}}).code(), StatusCode::kNotFound);
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  auto msg = spool->ReadMessage(id);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->states, (std::vector<RecipientState>{retry, {}, done}));
}

TEST(SpoolTest, RemoveIsDurableAndReclaimsSegments) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path());
  options.segment_bytes = 16 * 1024;  // a few messages per segment
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 20; ++i)
      ids.push_back(SubmitAndWait(*spool, MakeEnvelope("r"), MakeBody("r")).value());
    const size_t segments_before = SegmentFiles(dir.path()).size();
    EXPECT_GE(segments_before, 4u);
    // Remove the oldest 15: their segments can go, the rest must stay.
    Waiter<Status> last;
    for (int i = 0; i < 15; ++i) {
      ASSERT_TRUE(spool
                      ->Remove(ids[i], i == 14 ? Spool::DoneCallback([&](Status s) { last.Set(s); })
                                               : nullptr)
                      .ok());
    }
    ASSERT_TRUE(last.Wait().value_or(Internal("timeout")).ok());
    EXPECT_EQ(spool->ReadBody(ids[0]).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(spool->Remove(ids[0]).code(), StatusCode::kNotFound);
    // Reclaiming runs on the committer after the remove; wait for it with a deadline.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (spool->stats().segments_deleted == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT(spool->stats().segments_deleted, 0u);
    EXPECT_LT(SegmentFiles(dir.path()).size(), segments_before);
  }
  auto spool = OpenOrDie(options);
  EXPECT_EQ(spool->ListIds(), std::vector<QueueId>(ids.begin() + 15, ids.end()));
  for (size_t i = 15; i < ids.size(); ++i)
    EXPECT_EQ(spool->ReadBody(ids[i]).value(), MakeBody("r"));
}

// One long-deferred message must not pin every later segment: compaction copies it forward.
TEST(SpoolTest, CompactionFreesSegmentsPinnedByAnOldMessage) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path());
  options.segment_bytes = 16 * 1024;
  std::vector<QueueId> ids;
  const RecipientState deferred{RecipientState::Kind::kPending, 4, 1900000000000000};
  SpoolStats stats;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 40; ++i) {
      ids.push_back(SubmitAndWait(*spool, MakeEnvelope("k" + std::to_string(i)),
                                  MakeBody("k" + std::to_string(i)))
                        .value());
    }
    ASSERT_GE(SegmentFiles(dir.path()).size(), 8u);
    ASSERT_TRUE(spool->Update(ids[0], {{1, deferred}}).ok());
    Waiter<Status> last;
    for (int i = 1; i < 40; ++i) {
      ASSERT_TRUE(spool
                      ->Remove(ids[i], i == 39 ? Spool::DoneCallback([&](Status s) { last.Set(s); })
                                               : nullptr)
                      .ok());
    }
    ASSERT_TRUE(last.Wait().value_or(Internal("timeout")).ok());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (SegmentFiles(dir.path()).size() > 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_LE(SegmentFiles(dir.path()).size(), 2u);
    stats = spool->stats();
    EXPECT_GE(stats.messages_moved, 1u);
    EXPECT_EQ(spool->ReadBody(ids[0]).value(), MakeBody("k0"));
  }
  auto spool = OpenOrDie(options);
  EXPECT_EQ(spool->ListIds(), std::vector<QueueId>{ids[0]});
  auto msg = spool->ReadMessage(ids[0]);
  ASSERT_TRUE(msg.ok()) << msg.status().ToString();
  EXPECT_EQ(msg->envelope, MakeEnvelope("k0"));
  EXPECT_EQ(msg->states, (std::vector<RecipientState>{{}, deferred}));
  EXPECT_EQ(spool->ReadBody(ids[0]).value(), MakeBody("k0"));
}

// Crash at any byte of a write: a spool file cut at every offset recovers exactly the messages
// whose records are whole, with intact bodies, and nothing else.
TEST(SpoolTest, TruncationAtEveryOffsetRecoversOnlyWholeMessages) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path() + "/orig");
  options.sync = false;  // this test reopens a thousand copies; durability is not its subject
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 2; ++i) {
      ids.push_back(SubmitAndWait(*spool, MakeEnvelope("t" + std::to_string(i), 1),
                                  MakeBody("t" + std::to_string(i), 200))
                        .value());
    }
  }
  auto files = SegmentFiles(options.spoolbase);
  ASSERT_EQ(files.size(), 1u);
  const std::string full = ReadFile(files[0]);
  // Where each record ends, from the format itself.
  std::vector<size_t> ends;
  ScanRecords(std::string_view(full).substr(kSegmentHeaderSize), true, [&](ScannedRecord&& r) {
    ends.push_back(kSegmentHeaderSize + r.offset + r.header.total_size());
  });
  ASSERT_EQ(ends.size(), 2u);
  ASSERT_EQ(ends.back(), full.size());

  for (size_t cut = kSegmentHeaderSize; cut <= full.size(); ++cut) {
    const std::string copy = dir.path() + "/cut" + std::to_string(cut);
    fs::create_directories(copy);
    WriteFile(fs::path(copy) / files[0].filename(), std::string_view(full).substr(0, cut));
    SpoolOptions copy_options = options;
    copy_options.spoolbase = copy;
    {
      auto spool = OpenOrDie(copy_options);
      const size_t whole = static_cast<size_t>(
          std::count_if(ends.begin(), ends.end(), [&](size_t end) { return end <= cut; }));
      ASSERT_EQ(spool->ListIds(), std::vector<QueueId>(ids.begin(), ids.begin() + whole))
          << "cut at " << cut;
      // A crash mid-append is not damage: nothing is set aside for it.
      ASSERT_FALSE(fs::exists(fs::path(copy) / (files[0].filename().string() + ".corrupt")))
          << "cut at " << cut;
      for (size_t i = 0; i < whole; ++i) {
        ASSERT_EQ(spool->ReadBody(ids[i]).value(), MakeBody("t" + std::to_string(i), 200));
      }
    }
    fs::remove_all(copy);
  }
}

TEST(SpoolTest, CorruptSegmentIsSetAsideOthersRecover) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path());
  options.segment_bytes = 8 * 1024;
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 6; ++i)
      ids.push_back(SubmitAndWait(*spool, MakeEnvelope("c"), MakeBody("c")).value());
  }
  auto files = SegmentFiles(dir.path());
  ASSERT_GE(files.size(), 3u);
  std::string first = ReadFile(files[0]);
  first[3] ^= 0xFF;  // damage the segment header
  WriteFile(files[0], first);
  std::vector<std::string> logs;
  options.log = [&](std::string_view line) { logs.emplace_back(line); };
  auto spool = OpenOrDie(options);
  EXPECT_TRUE(fs::exists(files[0].string() + ".corrupt"));
  EXPECT_GT(spool->size(), 0u);
  EXPECT_LT(spool->size(), ids.size());
  for (QueueId id : spool->ListIds()) EXPECT_EQ(spool->ReadBody(id).value(), MakeBody("c"));
  EXPECT_TRUE(std::any_of(logs.begin(), logs.end(), [](const std::string& l) {
    return l.find("event=corrupt_segment") != std::string::npos;
  }));
}

TEST(SpoolTest, SecondOpenOfSameSpoolFails) {
  TempDir dir;
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  auto second = Spool::Open(QuietOptions(dir.path()));
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST(SpoolTest, CompletionsRunThroughPost) {
  TempDir dir;
  std::mutex mu;
  std::vector<std::function<void()>> posted;
  SpoolOptions options = QuietOptions(dir.path());
  options.post = [&](std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu);
    posted.push_back(std::move(fn));
  };
  auto spool = OpenOrDie(options);
  std::atomic<int> called{0};
  spool->Submit(MakeEnvelope("p"), "body", [&](Result<QueueId> r) {
    EXPECT_TRUE(r.ok());
    called++;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!posted.empty() || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(called.load(), 0);  // nothing ran on the committer thread
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(posted.size(), 1u);
  posted[0]();
  EXPECT_EQ(called.load(), 1);
}

// Everything that arrives while a sync runs is committed by the next single sync.
TEST(SpoolTest, GroupCommitSharesOneSync) {
  TempDir dir;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false, holding = false;
  SpoolOptions options = QuietOptions(dir.path());
  options.io.fdatasync = [&](int fd) {
    std::unique_lock<std::mutex> lock(mu);
    if (hold) {
      holding = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(20), [&] { return !hold; });
    }
    return ::fdatasync(fd);
  };
  auto spool = OpenOrDie(options);
  {
    std::lock_guard<std::mutex> lock(mu);
    hold = true;
  }
  Waiter<Result<QueueId>> first;
  spool->Submit(MakeEnvelope("g"), "first", [&](Result<QueueId> r) { first.Set(r); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return holding; }));
  }
  constexpr int kFollowers = 10;
  std::atomic<int> done{0};
  Waiter<bool> all;
  for (int i = 0; i < kFollowers; ++i) {
    spool->Submit(MakeEnvelope("g"), "follower", [&](Result<QueueId> r) {
      EXPECT_TRUE(r.ok());
      if (++done == kFollowers) all.Set(true);
    });
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    hold = false;
  }
  cv.notify_all();
  ASSERT_TRUE(first.Wait().has_value());
  ASSERT_TRUE(all.Wait().has_value());
  const SpoolStats stats = spool->stats();
  EXPECT_EQ(stats.messages_committed, 1u + kFollowers);
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(stats.largest_batch, uint64_t{kFollowers});
}

TEST(SpoolTest, ConcurrentSubmittersAllCommitted) {
  TempDir dir;
  constexpr int kThreads = 20, kPerThread = 25;
  std::vector<std::vector<QueueId>> ids(kThreads);
  SpoolStats stats;
  {
    auto spool = OpenOrDie(QuietOptions(dir.path()));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string tag = std::to_string(t) + "-" + std::to_string(i);
          auto id = SubmitAndWait(*spool, MakeEnvelope(tag), MakeBody(tag));
          EXPECT_TRUE(id.ok());
          if (id.ok()) ids[t].push_back(*id);
        }
      });
    }
    for (auto& t : threads) t.join();
    stats = spool->stats();
  }
  std::printf("concurrent: %llu messages in %llu syncs, largest batch %llu\n",
              static_cast<unsigned long long>(stats.messages_committed),
              static_cast<unsigned long long>(stats.batches),
              static_cast<unsigned long long>(stats.largest_batch));
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  std::set<QueueId> unique;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(ids[t].size(), size_t{kPerThread});
    for (int i = 0; i < kPerThread; ++i) {
      const std::string tag = std::to_string(t) + "-" + std::to_string(i);
      unique.insert(ids[t][i]);
      EXPECT_EQ(spool->ReadBody(ids[t][i]).value(), MakeBody(tag));
      EXPECT_EQ(spool->ReadMessage(ids[t][i])->envelope, MakeEnvelope(tag));
    }
  }
  EXPECT_EQ(unique.size(), size_t{kThreads} * kPerThread);
  EXPECT_EQ(spool->size(), unique.size());
}

// An injected ENOSPC mid-write: the submit fails with ResourceExhausted, the partial bytes are
// cut off, stored messages stay readable, and the spool works again once space returns.
TEST(SpoolTest, InjectedDiskFullFailsOnlyTheBatch) {
  TempDir dir;
  std::atomic<int> fail_mode{0};  // 0 pass, 1 short write then ENOSPC
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 0;  // file sizes below are record ends (zero_ahead_test.cc: with it)
  options.io.pwritev = testing::ShortWriteThenDiskFull(&fail_mode);
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("ok1"), MakeBody("ok1")).value());
    const auto size_before = fs::file_size(SegmentFiles(dir.path()).back());
    fail_mode = 1;
    auto failed = SubmitAndWait(*spool, MakeEnvelope("full"), MakeBody("full"));
    EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(fs::file_size(SegmentFiles(dir.path()).back()), size_before);
    EXPECT_EQ(spool->ReadBody(ids[0]).value(), MakeBody("ok1"));
    fail_mode = 0;
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("ok2"), MakeBody("ok2")).value());
    EXPECT_EQ(spool->stats().failed_batches, 1u);
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), ids);
  EXPECT_EQ(spool->ReadBody(ids[1]).value(), MakeBody("ok2"));
}

// A failed fdatasync fails the batch and the segment is abandoned (its page cache can no
// longer be trusted); later messages go to a new segment.
TEST(SpoolTest, FailedSyncFailsBatchAndAbandonsSegment) {
  TempDir dir;
  std::atomic<bool> fail{false};
  SpoolOptions options = QuietOptions(dir.path());
  options.io.fdatasync = [&](int fd) {
    if (fail.exchange(false)) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  };
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("a"), "a").value());
    fail = true;
    EXPECT_EQ(SubmitAndWait(*spool, MakeEnvelope("b"), "b").status().code(), StatusCode::kIoError);
    const size_t segments = SegmentFiles(dir.path()).size();
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("c"), "c").value());
    EXPECT_EQ(SegmentFiles(dir.path()).size(), segments + 1);
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), ids);
}

// A real full filesystem: a 1 MiB tmpfs. Needs root and mount(2); skipped otherwise.
TEST(SpoolTest, RealFullTmpfs) {
  TempDir dir;
  const std::string mnt = dir.path() + "/mnt";
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "); the injected ENOSPC test covers the logic";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  SpoolOptions options = QuietOptions(mnt + "/spool");
  options.segment_bytes = 128 * 1024;
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    Status failure;
    for (int i = 0; i < 1000 && failure.ok(); ++i) {
      auto id = SubmitAndWait(*spool, MakeEnvelope("f"), MakeBody("f" + std::to_string(i)));
      if (id.ok()) {
        ids.push_back(*id);
      } else {
        failure = id.status();
      }
    }
    ASSERT_EQ(failure.code(), StatusCode::kResourceExhausted) << failure.ToString();
    ASSERT_GT(ids.size(), 50u);
    for (size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(spool->ReadBody(ids[i]).value(), MakeBody("f" + std::to_string(i)));
    }
    // Delivering (removing) the oldest half frees whole segments; accepting works again.
    const size_t half = ids.size() / 2;
    for (size_t i = 0; i < half; ++i) ASSERT_TRUE(spool->Remove(ids[i]).ok());
    Result<QueueId> again = Internal("not tried");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!again.ok() && std::chrono::steady_clock::now() < deadline) {
      again = SubmitAndWait(*spool, MakeEnvelope("f"), MakeBody("again"));
    }
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    ids.erase(ids.begin(), ids.begin() + half);
    ids.push_back(*again);
  }
  auto spool = OpenOrDie(options);
  EXPECT_EQ(spool->ListIds(), ids);
  EXPECT_EQ(spool->ReadBody(ids.back()).value(), MakeBody("again"));
}

}  // namespace
}  // namespace ec::spool
