// Streamed bodies: IncomingBody (memory head, nameless temporary file, running CRC), the CRC
// combination it relies on, and Spool::Submit with a prefix and an IncomingBody: stored whole,
// checksummed, durable across reopen, failing cleanly on a full disk, and never leaving a
// file behind (aborted, stored, or killed mid-body).
#include "mta/spool/incoming_body.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "mta/spool/crc32c.h"
#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::spool {
namespace {

using testing::MakeBody;
using testing::MakeEnvelope;
using testing::OpenOrDie;
using testing::QuietOptions;
using testing::TempDir;
using testing::Waiter;
namespace fs = std::filesystem;

// Names in `dir` other than the spool's lock and segments.
std::set<std::string> StrayFiles(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name != "lock" && e.path().extension() != ".seg") out.insert(name);
  }
  return out;
}

std::string ReadAll(int fd, size_t size) {
  std::string out(size, '\0');
  EXPECT_EQ(::pread(fd, out.data(), size, 0), static_cast<ssize_t>(size));
  return out;
}

Result<QueueId> SubmitStreamAndWait(Spool& spool, Envelope envelope, std::string prefix,
                                    std::unique_ptr<IncomingBody> body) {
  Waiter<Result<QueueId>> waiter;
  spool.Submit(QueueId(), std::move(envelope), std::move(prefix), std::move(body),
               [&](Result<QueueId> r) { waiter.Set(std::move(r)); });
  auto result = waiter.Wait();
  if (!result) return Internal("no commit callback within the deadline");
  return std::move(*result);
}

// Feeds `content` in pieces of `piece` bytes, as a receiving session does.
void Fill(IncomingBody& body, std::string_view content, size_t piece) {
  for (size_t pos = 0; pos < content.size(); pos += piece) body.Append(content.substr(pos, piece));
}

TEST(Crc32cCombineTest, EqualsTheCrcOfTheConcatenation) {
  const std::string data = MakeBody("crc", 300000);
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}, size_t{65536},
                       data.size() - 3, data.size()}) {
    const std::string_view a = std::string_view(data).substr(0, split);
    const std::string_view b = std::string_view(data).substr(split);
    EXPECT_EQ(Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), Crc32c(data)) << split;
  }
}

TEST(IncomingBodyTest, SmallBodyStaysInMemory) {
  TempDir dir;
  IncomingBody body(dir.path(), {});
  const std::string content = MakeBody("small", IncomingBody::kMemoryBytes);
  Fill(body, content, 1000);
  ASSERT_TRUE(body.Finish().ok());
  EXPECT_FALSE(body.spilled());
  EXPECT_EQ(body.memory(), content);
  EXPECT_EQ(body.size(), content.size());
  EXPECT_EQ(body.crc(), Crc32c(content));
  EXPECT_TRUE(StrayFiles(dir.path()).empty());
}

TEST(IncomingBodyTest, LargeBodyGoesToANamelessFileWithBoundedMemory) {
  TempDir dir;
  IncomingBody body(dir.path(), {});
  const std::string content = MakeBody("large", 5 << 20);
  for (size_t pos = 0; pos < content.size(); pos += 16384) {
    body.Append(std::string_view(content).substr(pos, 16384));
    // Past the memory head only a write buffer's worth waits in memory.
    if (body.spilled()) {
      ASSERT_LT(body.memory().size(), IncomingBody::kWriteBytes);
    }
  }
  ASSERT_TRUE(body.Finish().ok());
  EXPECT_TRUE(body.spilled());
  EXPECT_TRUE(body.memory().empty());
  EXPECT_EQ(body.crc(), Crc32c(content));
  EXPECT_EQ(ReadAll(body.fd(), content.size()), content);
  EXPECT_TRUE(StrayFiles(dir.path()).empty()) << "the temporary file must have no name";
}

TEST(IncomingBodyTest, WriteFailureIsKeptAndLaterBytesAreDropped) {
  TempDir dir;
  IoHooks io;
  io.pwritev = [](int, const struct iovec*, int, off_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  IncomingBody body(dir.path(), io);
  Fill(body, MakeBody("full", 1 << 20), 4096);
  EXPECT_EQ(body.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(body.size(), 1u << 20);  // still counted: the session's size accounting is unchanged
  EXPECT_EQ(body.Finish().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(StrayFiles(dir.path()).empty());
}

TEST(StreamedSubmitTest, PrefixAndStreamedBodyAreStoredWholeAndSurviveReopen) {
  TempDir dir;
  const std::string prefix = "Received: from x\r\n";
  std::vector<std::pair<QueueId, std::string>> stored;
  {
    auto spool = OpenOrDie(QuietOptions(dir.path()));
    for (size_t size : {size_t{0}, size_t{100}, IncomingBody::kMemoryBytes + 1, size_t{3} << 20}) {
      const std::string tag = "s" + std::to_string(size);
      const std::string content = size ? MakeBody(tag, size) : std::string();
      auto body = spool->NewIncomingBody();
      Fill(*body, content, 3000);
      auto id = SubmitStreamAndWait(*spool, MakeEnvelope(tag), prefix, std::move(body));
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      EXPECT_EQ(spool->ReadBody(*id).value(), prefix + content);
      stored.emplace_back(*id, prefix + content);
    }
    EXPECT_TRUE(StrayFiles(dir.path()).empty());
  }
  // Recovery checks every body checksum: the combined CRC must be right.
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  for (const auto& [id, message] : stored) EXPECT_EQ(spool->ReadBody(id).value(), message);
}

TEST(StreamedSubmitTest, StreamedAndPlainMessagesShareABatch) {
  TempDir dir;
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  std::vector<Waiter<Result<QueueId>>> waiters(6);
  std::vector<std::string> messages;
  for (int i = 0; i < 6; ++i) {
    const std::string tag = "b" + std::to_string(i);
    auto done = [&waiters, i](Result<QueueId> r) { waiters[i].Set(std::move(r)); };
    if (i % 2 == 0) {
      messages.push_back(MakeBody(tag, 1000));
      spool->Submit(MakeEnvelope(tag), messages.back(), done);
    } else {
      const std::string content = MakeBody(tag, 400000 + i);
      auto body = spool->NewIncomingBody();
      Fill(*body, content, 8192);
      messages.push_back("P" + content);
      spool->Submit(QueueId(), MakeEnvelope(tag), "P", std::move(body), done);
    }
  }
  for (int i = 0; i < 6; ++i) {
    auto id = waiters[i].Wait();
    ASSERT_TRUE(id && id->ok());
    EXPECT_EQ(spool->ReadBody(**id).value(), messages[i]);
  }
}

TEST(StreamedSubmitTest, DiskFullWhileReceivingFailsTheSubmitAs452) {
  TempDir dir;
  std::atomic<bool> full{false};
  SpoolOptions options = QuietOptions(dir.path());
  options.io.pwritev = [&](int fd, const struct iovec* iov, int count, off_t offset) -> ssize_t {
    if (full) {
      errno = ENOSPC;
      return -1;
    }
    return ::pwritev(fd, iov, count, offset);
  };
  auto spool = OpenOrDie(options);
  auto body = spool->NewIncomingBody();
  full = true;
  Fill(*body, MakeBody("nospace", 1 << 20), 4096);
  full = false;
  auto id = SubmitStreamAndWait(*spool, MakeEnvelope("nospace"), "", std::move(body));
  EXPECT_EQ(id.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(spool->size(), 0u);
  EXPECT_TRUE(StrayFiles(dir.path()).empty());
}

TEST(StreamedSubmitTest, DiskFullWhileCopyingIntoTheSegmentFailsOnlyThatBatch) {
  TempDir dir;
  std::atomic<int> fail_after{-1};  // pwritev calls to let through, then ENOSPC; -1: never
  SpoolOptions options = QuietOptions(dir.path());
  options.zero_ahead_bytes = 0;  // file sizes below are record ends (zero_ahead_test.cc: with it)
  options.io.pwritev = [&](int fd, const struct iovec* iov, int count, off_t offset) -> ssize_t {
    if (fail_after.load() == 0) {
      errno = ENOSPC;
      return -1;
    }
    if (fail_after.load() > 0) --fail_after;
    return ::pwritev(fd, iov, count, offset);
  };
  auto spool = OpenOrDie(options);
  auto ok1 = testing::SubmitAndWait(*spool, MakeEnvelope("ok1"), MakeBody("ok1"));
  ASSERT_TRUE(ok1.ok());
  const auto size_before = fs::file_size(testing::SegmentFiles(dir.path()).back());
  auto body = spool->NewIncomingBody();
  Fill(*body, MakeBody("big", 2 << 20), 65536);
  ASSERT_TRUE(body->Finish().ok());
  fail_after = 3;  // the committer's copy fails part way (hooks force the buffered copy)
  auto failed = SubmitStreamAndWait(*spool, MakeEnvelope("big"), "H", std::move(body));
  EXPECT_EQ(failed.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(fs::file_size(testing::SegmentFiles(dir.path()).back()), size_before);
  fail_after = -1;
  auto ok2 = testing::SubmitAndWait(*spool, MakeEnvelope("ok2"), MakeBody("ok2"));
  ASSERT_TRUE(ok2.ok());
  spool.reset();
  spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_EQ(spool->ListIds(), (std::vector<QueueId>{*ok1, *ok2}));
  EXPECT_TRUE(StrayFiles(dir.path()).empty());
}

TEST(StreamedSubmitTest, KilledMidBodyLeavesNothingBehind) {
  TempDir dir;
  const std::string spoolbase = dir.path() + "/spool";
  { OpenOrDie(QuietOptions(spoolbase)); }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // A session half way through a big body, then SIGKILL.
    IncomingBody body(spoolbase, {});
    Fill(body, MakeBody("killed", 4 << 20), 16384);
    if (!body.spilled() || !body.status().ok()) ::_exit(1);
    (void)::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child did not spill its body";
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(StrayFiles(spoolbase).empty());
  auto spool = OpenOrDie(QuietOptions(spoolbase));
  EXPECT_EQ(spool->size(), 0u);
}

TEST(StreamedSubmitTest, RecoveryRemovesANamedTemporaryBodyLeftByACrash) {
  TempDir dir;
  // Where O_TMPFILE is missing the file has a name for a moment; a crash then may leave it.
  testing::WriteFile(fs::path(dir.path()) / "incoming.AbC123.tmp", "partial body");
  auto spool = OpenOrDie(QuietOptions(dir.path()));
  EXPECT_TRUE(StrayFiles(dir.path()).empty());
}

}  // namespace
}  // namespace ec::spool
