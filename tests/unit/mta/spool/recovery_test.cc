// Spool recovery with a damaged segment: a flipped bit or garbage in one record loses only that
// record, every later one is recovered, the segment is copied aside as it was, and record-shaped
// bytes inside a message body never become messages or removals.
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <random>

#include "mta/spool/record.h"
#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::spool {
namespace {

namespace fs = std::filesystem;
namespace t = testing;  // the spool's test helpers

constexpr int kMessages = 5;
constexpr int kMiddle = 2;

struct Written {
  std::vector<QueueId> ids;
  std::vector<std::string> bodies;
  fs::path segment;
  std::string bytes;           // the segment file
  std::vector<size_t> starts;  // of each record in the file, then the file's end
};

// Five messages in one segment, each its own record; the middle one's body is made by
// `middle_body` from the ids all five will have.
std::string PlainBody(const std::vector<QueueId>&) { return t::MakeBody("middle", 2000); }

Written WriteFive(const std::string& dir,
                  const std::function<std::string(const std::vector<QueueId>&)>& middle_body) {
  Written w;
  {
    auto spool = t::OpenOrDie(t::QuietOptions(dir));
    for (int i = 0; i < kMessages; ++i) w.ids.push_back(spool->NewId());
    for (int i = 0; i < kMessages; ++i) {
      w.bodies.push_back(i == kMiddle ? middle_body(w.ids)
                                      : t::MakeBody("m" + std::to_string(i), 2000));
      EC_CHECK(t::SubmitAndWait(*spool, w.ids[i], t::MakeEnvelope("m"), w.bodies.back()).ok());
    }
  }
  auto files = t::SegmentFiles(dir);
  EC_CHECK(!files.empty());
  w.segment = files.front();
  w.bytes = t::ReadFile(w.segment);
  ScanRecords(std::string_view(w.bytes).substr(kSegmentHeaderSize), true,
              [&](ScannedRecord&& r) { w.starts.push_back(kSegmentHeaderSize + r.offset); });
  EC_CHECK(w.starts.size() == kMessages);
  w.starts.push_back(w.bytes.size());
  return w;
}

struct Reopened {
  std::unique_ptr<Spool> spool;
  std::vector<std::string> logs;

  bool Logged(const std::string& text) const {
    return std::any_of(logs.begin(), logs.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

Reopened Reopen(const std::string& dir, SpoolOptions options = {}) {
  Reopened r;
  if (options.spoolbase.empty()) options = t::QuietOptions(dir);
  auto logs = std::make_shared<std::vector<std::string>>();
  options.log = [logs](std::string_view line) { logs->emplace_back(line); };
  r.spool = t::OpenOrDie(options);
  r.logs = *logs;
  return r;
}

// Every message but the middle one is there, whole.
void ExpectAllButMiddle(const Spool& spool, const Written& w) {
  std::vector<QueueId> want = w.ids;
  want.erase(want.begin() + kMiddle);
  ASSERT_EQ(spool.ListIds(), want);
  for (int i = 0; i < kMessages; ++i) {
    if (i == kMiddle) continue;
    EXPECT_EQ(spool.ReadBody(w.ids[i]).value(), w.bodies[i]);
  }
}

// A flipped bit in the middle record's header, meta or body.
TEST(SpoolRecoveryTest, BitFlipInTheMiddleRecordLosesOnlyIt) {
  for (size_t at : {size_t{9}, size_t{17}, size_t{60}, size_t{900}}) {
    t::TempDir dir;
    const Written w = WriteFive(dir.path(), PlainBody);
    std::string damaged = w.bytes;
    damaged[w.starts[kMiddle] + at] ^= 0x20;
    t::WriteFile(w.segment, damaged);

    Reopened r = Reopen(dir.path());
    ExpectAllButMiddle(*r.spool, w);
    const size_t length = w.starts[kMiddle + 1] - w.starts[kMiddle];
    EXPECT_TRUE(r.Logged("event=skip_damaged_records file=" + w.segment.string() + " offset=" +
                         std::to_string(w.starts[kMiddle]) + " length=" + std::to_string(length)))
        << "flip at " << at;
    // The segment is kept as it was (its later records are in use), and so is a copy.
    EXPECT_EQ(t::ReadFile(w.segment), damaged);
    EXPECT_EQ(t::ReadFile(w.segment.string() + ".corrupt"), damaged);
    EXPECT_TRUE(r.Logged("event=corrupt_segment_copied"));
    r.spool.reset();

    // The next start meets the same damage and recognises its copy.
    Reopened again = Reopen(dir.path());
    ExpectAllButMiddle(*again.spool, w);
    EXPECT_FALSE(fs::exists(w.segment.string() + ".corrupt.1"));
  }
}

// Random bytes over the middle record's header and meta: its lengths are lost, recovery
// searches for the next whole record.
TEST(SpoolRecoveryTest, GarbageInTheMiddleIsSkipped) {
  t::TempDir dir;
  const Written w = WriteFive(dir.path(), PlainBody);
  std::string damaged = w.bytes;
  std::mt19937 rng(11);
  for (size_t i = w.starts[kMiddle]; i < w.starts[kMiddle] + 300; ++i) {
    damaged[i] = static_cast<char>(rng());
  }
  t::WriteFile(w.segment, damaged);
  Reopened r = Reopen(dir.path());
  ExpectAllButMiddle(*r.spool, w);
  EXPECT_TRUE(r.Logged("event=skip_damaged_records"));
  EXPECT_TRUE(fs::exists(w.segment.string() + ".corrupt"));
}

// The bytes of another spool's records (removes of our messages, a message of its own) as the
// body of the middle message, e.g. a spool file sent as an attachment. A flipped bit in that
// message makes recovery skip it by its own length: nothing in its body is taken for a record.
TEST(SpoolRecoveryTest, RecordsInsideABodyAreNeverRecovered) {
  t::TempDir dir;
  std::string inner;
  auto planted = [&inner](const std::vector<QueueId>& ids) {
    for (QueueId id : ids) AppendRemoveRecord(id, &inner);
    Envelope e = t::MakeEnvelope("evil", 1);
    e.rcpts[0].address = "victim@elsewhere.example";
    AppendMessageRecord(MessageMeta{QueueId(ids.back().value() + 1), e, {{}}}, "spam", &inner);
    inner += "spam";
    return inner;
  };
  const Written w = WriteFive(dir.path(), planted);
  {
    // Undamaged, the body is just a body.
    Reopened r = Reopen(dir.path());
    EXPECT_EQ(r.spool->ListIds(), w.ids);
    EXPECT_EQ(r.spool->ReadBody(w.ids[kMiddle]).value(), inner);
  }
  for (size_t at : {size_t{9}, size_t{60}, w.starts[kMiddle + 1] - w.starts[kMiddle] - 3}) {
    std::string damaged = w.bytes;
    damaged[w.starts[kMiddle] + at] ^= 0x01;
    t::WriteFile(w.segment, damaged);
    Reopened r = Reopen(dir.path());
    ExpectAllButMiddle(*r.spool, w);
    EXPECT_EQ(r.spool->size(), size_t{kMessages - 1}) << "flip at " << at;
  }
}

// Setting the copy aside fails (disk full): recovery still indexes every whole record and
// leaves the segment as it was.
TEST(SpoolRecoveryTest, FailedCopyStillRecoversTheRest) {
  t::TempDir dir;
  const Written w = WriteFive(dir.path(), PlainBody);
  std::string damaged = w.bytes;
  damaged[w.starts[kMiddle] + 500] ^= 0x04;
  t::WriteFile(w.segment, damaged);
  SpoolOptions options = t::QuietOptions(dir.path());
  std::atomic<bool> fail_next{true};  // the copy is the first write of the start
  options.io.pwritev = [&](int fd, const struct iovec* iov, int count, off_t offset) -> ssize_t {
    if (fail_next.exchange(false)) {
      errno = ENOSPC;
      return -1;
    }
    return ::pwritev(fd, iov, count, offset);
  };
  Reopened r = Reopen(dir.path(), options);
  ExpectAllButMiddle(*r.spool, w);
  EXPECT_TRUE(r.Logged("event=corrupt_copy_failed"));
  EXPECT_FALSE(fs::exists(w.segment.string() + ".corrupt"));
  EXPECT_EQ(t::ReadFile(w.segment), damaged);
}

// A torn last record after damage is still cut off; the copy holds what precedes the cut.
TEST(SpoolRecoveryTest, DamageAndTornTail) {
  t::TempDir dir;
  const Written w = WriteFive(dir.path(), PlainBody);
  std::string damaged = w.bytes.substr(0, w.bytes.size() - 100);
  damaged[w.starts[kMiddle] + 500] ^= 0x04;
  t::WriteFile(w.segment, damaged);
  Reopened r = Reopen(dir.path());
  std::vector<QueueId> want{w.ids[0], w.ids[1], w.ids[3]};
  EXPECT_EQ(r.spool->ListIds(), want);
  EXPECT_TRUE(r.Logged("event=discard_torn_tail"));
  const std::string kept = damaged.substr(0, w.starts[kMessages - 1]);
  EXPECT_EQ(t::ReadFile(w.segment), kept);
  EXPECT_EQ(t::ReadFile(w.segment.string() + ".corrupt"), kept);
}

}  // namespace
}  // namespace ec::spool
