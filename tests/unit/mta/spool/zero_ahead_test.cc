// ZeroAhead on real files: how far it zeroes, that it never zeroes what the writer claimed (a
// writer racing it with small chunks), that Stop leaves the file alone, that a failed write is
// logged and ends the zeroing; and the spool with it on: zeros past the records while open, cut
// at close, trimmed (not reported torn) by recovery after a crash.
#include "mta/spool/zero_ahead.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/daemon/unique_fd.h"
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

class ZeroAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/file";
    fd_.Reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd_.valid());
    ASSERT_EQ(::pwrite(fd_.get(), "HEAD", 4, 0), 4);
  }
  uint64_t Size() const {
    struct stat st {};
    EC_CHECK(::fstat(fd_.get(), &st) == 0);
    return static_cast<uint64_t>(st.st_size);
  }
  std::vector<std::string> Logged() {
    std::lock_guard<std::mutex> lock(mu_);
    return logged_;
  }
  std::function<void(std::string_view)> Logger() {
    return [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      logged_.emplace_back(line);
    };
  }

  TempDir dir_;
  std::string path_;
  daemon::UniqueFd fd_;
  std::mutex mu_;
  std::vector<std::string> logged_;
};

TEST_F(ZeroAheadTest, KeepsTheLeadPastTheClaimsAndStopsAtTheLimit) {
  ZeroAhead zero({.lead = 64 << 10, .chunk = 16 << 10}, Logger());
  EXPECT_EQ(zero.WaitIdle(), 0u);  // no file yet
  zero.Follow(fd_.get(), 4, 1 << 20, path_);
  EXPECT_EQ(zero.WaitIdle(), 4u + (64 << 10));
  EXPECT_EQ(Size(), 4u + (64 << 10));
  zero.Claim(300000);
  EXPECT_EQ(zero.WaitIdle(), 300000u + (64 << 10));
  EXPECT_EQ(Size(), 300000u + (64 << 10));
  zero.Claim((1 << 20) - 100);
  EXPECT_EQ(zero.WaitIdle(), uint64_t{1} << 20);
  EXPECT_EQ(Size(), uint64_t{1} << 20);
  const std::string bytes = ReadFile(path_);
  EXPECT_EQ(bytes.substr(0, 4), "HEAD");
  EXPECT_EQ(bytes.find_first_not_of('\0', 4), std::string::npos);
  EXPECT_TRUE(Logged().empty());
}

// The writer appends records of random sizes right behind its claims while zeros are written
// in small chunks just ahead: every byte it wrote must still be there.
TEST_F(ZeroAheadTest, NeverOverwritesWhatTheWriterClaimed) {
  ZeroAhead zero({.lead = 16 << 10, .chunk = 2 << 10}, Logger());
  zero.Follow(fd_.get(), 4, 64 << 20, path_);
  std::mt19937 rng(7);
  std::string expected = "HEAD";
  for (int i = 0; i < 3000; ++i) {
    std::string record(1 + rng() % 9000, static_cast<char>('a' + i % 26));
    const uint64_t at = expected.size();
    zero.Claim(at + record.size());
    ASSERT_EQ(::pwrite(fd_.get(), record.data(), record.size(), static_cast<off_t>(at)),
              static_cast<ssize_t>(record.size()));
    expected += record;
  }
  const uint64_t zeroed = zero.WaitIdle();
  EXPECT_GT(zeroed, expected.size() + (14 << 10));  // within a chunk of the lead
  EXPECT_LE(zeroed, expected.size() + (16 << 10));
  zero.Stop();
  const std::string bytes = ReadFile(path_);
  ASSERT_EQ(bytes.size(), zeroed);
  EXPECT_TRUE(bytes.compare(0, expected.size(), expected) == 0) << "a record was zeroed";
  EXPECT_EQ(bytes.find_first_not_of('\0', expected.size()), std::string::npos);
}

TEST_F(ZeroAheadTest, StopLeavesTheFileToTheWriter) {
  ZeroAhead zero({.lead = 64 << 10, .chunk = 16 << 10}, Logger());
  zero.Follow(fd_.get(), 4, 1 << 20, path_);
  zero.WaitIdle();
  zero.Stop();
  ASSERT_EQ(::ftruncate(fd_.get(), 4), 0);
  zero.Claim(500000);  // claims without a file change nothing
  EXPECT_EQ(zero.WaitIdle(), 0u);
  EXPECT_EQ(Size(), 4u);
  // Following again starts over from the new end.
  zero.Follow(fd_.get(), 4, 1 << 20, path_);
  EXPECT_EQ(zero.WaitIdle(), 4u + (64 << 10));
}

TEST_F(ZeroAheadTest, PausedItZeroesNothingMoreAndResumedItCatchesUp) {
  ZeroAhead zero({.lead = 64 << 10, .chunk = 16 << 10}, Logger());
  zero.Follow(fd_.get(), 4, 1 << 20, path_);
  EXPECT_EQ(zero.WaitIdle(), 4u + (64 << 10));
  zero.SetPaused(true);
  // The writer goes past the zeros: the file grows by its writes alone.
  zero.Claim(200000);
  ASSERT_EQ(::pwrite(fd_.get(), "X", 1, 199999), 1);
  EXPECT_EQ(zero.WaitIdle(), 200000u);
  EXPECT_EQ(Size(), 200000u);
  zero.SetPaused(false);
  EXPECT_EQ(zero.WaitIdle(), 200000u + (64 << 10));
  EXPECT_EQ(Size(), 200000u + (64 << 10));
  EXPECT_EQ(ReadFile(path_)[199999], 'X');
}

TEST_F(ZeroAheadTest, AFailedWriteIsLoggedAndEndsTheZeroingOfThatFile) {
  // The file size limit makes the zero writes fail (EFBIG) past 100 KB.
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  struct rlimit small = old;
  small.rlim_cur = 100 << 10;
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  uint64_t zeroed = 0;
  {
    ZeroAhead zero({.lead = 1 << 20, .chunk = 16 << 10}, Logger());
    zero.Follow(fd_.get(), 4, 4 << 20, path_);
    zeroed = zero.WaitIdle();
    zero.Claim(200000);  // no new attempt on this file after the failure
    zero.WaitIdle();
  }
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_LE(Size(), uint64_t{100} << 10);
  EXPECT_LE(zeroed, uint64_t{200000} + (1 << 20));
  const auto logged = Logged();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("event=zero_ahead_failed file=" + path_), std::string::npos)
      << logged[0];
}

// --- the spool with zero-ahead ---

uint64_t FileSize(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

// The zeros are written by the spool's own thread, after the commit: waits (bounded) until the
// segment reaches past `end` and returns its bytes.
std::string WaitForZerosPast(const std::filesystem::path& segment, uint64_t end,
                             std::chrono::milliseconds wait = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (FileSize(segment) <= end && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return ReadFile(segment);
}

// Where the records of a segment end: past its last non-zero byte (a record ends in its body).
uint64_t RecordsEnd(const std::string& bytes) { return bytes.find_last_not_of('\0') + 1; }

TEST(SpoolZeroAheadTest, ZerosPastTheRecordsWhileOpenCutAtClose) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 256 << 10;
  uint64_t records_end = 0;
  {
    auto spool = OpenOrDie(options);
    ASSERT_TRUE(SubmitAndWait(*spool, MakeEnvelope("a"), MakeBody("a")).ok());
    const auto segs = SegmentFiles(dir.path());
    ASSERT_EQ(segs.size(), 1u);
    // The sync before the callback covered the record; the zeros lie past it.
    records_end = RecordsEnd(ReadFile(segs[0]));
    EXPECT_GT(WaitForZerosPast(segs[0], records_end).size(), records_end);
  }
  const auto segs = SegmentFiles(dir.path());
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_LE(FileSize(segs[0]), records_end + 8);  // the record may end in zero bytes
  std::vector<std::string> logged;
  options.log = [&](std::string_view line) { logged.emplace_back(line); };
  auto spool = OpenOrDie(options);
  EXPECT_EQ(spool->size(), 1u);
  for (const std::string& line : logged) {
    EXPECT_EQ(line.find("tail"), std::string::npos) << line;
  }
}

TEST(SpoolZeroAheadTest, RecoveryTrimsTheZerosOfACrashedSegmentQuietly) {
  TempDir dir, crashed;
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 256 << 10;
  auto spool = OpenOrDie(options);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(SubmitAndWait(*spool, MakeEnvelope("m" + std::to_string(i)),
                              MakeBody("m" + std::to_string(i)))
                    .ok());
  }
  // What a kill -9 leaves: the files as they are now, the zeros included.
  const auto live = SegmentFiles(dir.path()).back();
  ASSERT_GT(WaitForZerosPast(live, RecordsEnd(ReadFile(live))).size(),
            RecordsEnd(ReadFile(live)));
  for (const auto& seg : SegmentFiles(dir.path())) {
    std::filesystem::copy_file(seg, crashed.path() + "/" + seg.filename().string());
  }
  const auto copied = SegmentFiles(crashed.path());
  ASSERT_FALSE(copied.empty());
  const uint64_t size = FileSize(copied.back());
  std::vector<std::string> logged;
  SpoolOptions reopen = QuietOptions(crashed.path());
  reopen.log = [&](std::string_view line) { logged.emplace_back(line); };
  auto recovered = OpenOrDie(reopen);
  EXPECT_EQ(recovered->size(), 5u);
  bool trimmed = false;
  for (const std::string& line : logged) {
    EXPECT_EQ(line.find("discard_torn_tail"), std::string::npos) << line;
    EXPECT_EQ(line.find("corrupt"), std::string::npos) << line;
    trimmed |= line.find("event=trim_zero_tail file=" + copied.back().string()) != std::string::npos;
  }
  EXPECT_TRUE(trimmed);
  EXPECT_LT(FileSize(copied.back()), size);
}

// An injected ENOSPC in the middle of a record: the file is cut where the last whole record
// ends (zeros and all), the spool goes on, and everything stored comes back after a reopen.
TEST(SpoolZeroAheadTest, AFailedWriteCutsTheZerosWithThePartialRecord) {
  TempDir dir;
  std::atomic<int> fail_mode{0};  // 0 pass, 1 short write then ENOSPC
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 256 << 10;
  options.io.pwritev = testing::ShortWriteThenDiskFull(&fail_mode);
  std::vector<QueueId> ids;
  {
    auto spool = OpenOrDie(options);
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("ok1"), MakeBody("ok1")).value());
    const auto segment = SegmentFiles(dir.path()).back();
    const uint64_t records_end = RecordsEnd(ReadFile(segment));
    const std::string before = WaitForZerosPast(segment, records_end);
    ASSERT_GT(before.size(), records_end);  // zeros ahead
    fail_mode = 1;
    auto failed = SubmitAndWait(*spool, MakeEnvelope("full"), MakeBody("full"));
    EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
    const std::string after = ReadFile(SegmentFiles(dir.path()).back());
    EXPECT_EQ(after, before.substr(0, after.size()));
    EXPECT_LE(after.size(), records_end + 8);  // the record may end in zero bytes
    EXPECT_GE(after.size(), records_end);
    fail_mode = 0;
    ids.push_back(SubmitAndWait(*spool, MakeEnvelope("ok2"), MakeBody("ok2")).value());
  }
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), ids);
  EXPECT_EQ(spool->ReadBody(ids[1]).value(), MakeBody("ok2"));
}

TEST(SpoolZeroAheadTest, OffWithoutSyncOrWhenZero) {
  for (bool sync : {false, true}) {
    TempDir dir;
    SpoolOptions options = QuietOptions(dir.path());
    options.sync = sync;
    options.zero_ahead_bytes = sync ? 0 : 256 << 10;
    auto spool = OpenOrDie(options);
    ASSERT_TRUE(SubmitAndWait(*spool, MakeEnvelope("a"), MakeBody("a")).ok());
    // Zeros come from a thread of their own: give it time to show, were it running.
    const auto segment = SegmentFiles(dir.path()).at(0);
    const uint64_t records_end = RecordsEnd(ReadFile(segment));
    EXPECT_EQ(WaitForZerosPast(segment, records_end, std::chrono::milliseconds(300)).size(),
              records_end)
        << "sync=" << sync;  // the body ends the file
  }
}

// Several messages per sync (sessions at once): the zeros stop and the records end the file;
// one message per sync again (a lone client): they come back. See LoneWriterGauge.
TEST(SpoolZeroAheadTest, PausedWhileSyncsCarrySeveralMessagesBackForALoneClient) {
  TempDir dir;
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 256 << 10;
  auto spool = OpenOrDie(options);
  // Bursts of 16 at once: the committer takes most of a burst in one batch (the first may go
  // alone, the rest arrive while its sync runs). 40 x 16 x 8 KB = 5 MB, far past the first
  // zeros.
  // Counted through a shared_ptr: a failed wait leaves callbacks behind that must not outlive it.
  auto stored = std::make_shared<std::atomic<int>>(0);
  for (int burst = 1; burst <= 40; ++burst) {
    for (int i = 0; i < 16; ++i) {
      spool->Submit(MakeEnvelope("b"), MakeBody("b", 8192), [stored](Result<QueueId> r) {
        EC_CHECK(r.ok());
        ++*stored;
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (*stored < 16 * burst && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(*stored, 16 * burst);
  }
  const auto segments = SegmentFiles(dir.path());
  ASSERT_EQ(segments.size(), 1u);
  const auto& segment = segments[0];
  uint64_t records_end = RecordsEnd(ReadFile(segment));
  // Give a running zero thread time to show (it would keep 256 KB ahead).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(FileSize(segment), records_end + 8) << "zeros kept ahead under concurrent load";
  // A lone client: one message per sync brings the average down (from 16, within 80 syncs).
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(SubmitAndWait(*spool, MakeEnvelope("l"), MakeBody("l", 1024)).ok());
  }
  records_end = RecordsEnd(ReadFile(segment));
  EXPECT_GT(WaitForZerosPast(segment, records_end).size(), records_end + (128 << 10))
      << "no zeros ahead for a lone client";
}

}  // namespace
}  // namespace ec::spool
