// kill -9 of a process that appends to a journal and consumes it (read, advance) at random
// moments, many times: after each kill the journal reopens, nothing appended is lost or
// doubled before the cursor is, the records after the cursor are whole and contiguous, new
// appends go on from there, and segments every reader passed are gone.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "mta/journal/journal.h"

namespace ec::journal {
namespace {
namespace fs = std::filesystem;

std::string Line(uint64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "record %08llu ", static_cast<unsigned long long>(i));
  return std::string(buf) + std::string(i % 97, 'x');  // varied sizes
}

uint64_t NumberOf(const std::string& payload) { return std::stoull(payload.substr(7, 8)); }

JournalOptions Options(const fs::path& dir) {
  JournalOptions o;
  o.dir = dir.string();
  o.segment_bytes = 2048;  // many segments, so rolls and pruning race the kill too
  o.max_bytes = 64u << 20;
  // =>master is consumed by the writer itself; =>check only by the test, to see everything.
  o.subscribers = {"=>master", "=>check"};
  return o;
}

// The child: append `next`, `next+1`, ...; every few records read what is after the cursor and
// advance past it, checking order as it goes. Runs until killed.
// Writes a byte to `ready` once it has appended kReadyAfter records.
constexpr uint64_t kReadyAfter = 10;
[[noreturn]] void Writer(const fs::path& dir, uint64_t next, int ready) {
  auto j = Journal::Open(Options(dir));
  if (!j.ok()) _exit(3);
  for (uint64_t n = 0;; ++n) {
    if (!(*j)->Append(Line(next++)).ok()) _exit(4);
    if (n + 1 == kReadyAfter && ::write(ready, "r", 1) != 1) _exit(7);
    if (n % 13 == 0) {
      auto r = (*j)->Read("=>master", 20);
      if (!r.ok()) _exit(5);
      if (!r->empty() && !(*j)->Advance("=>master", r->back().next).ok()) _exit(6);
    }
  }
}

// Reads everything after `sub`'s cursor, checks each record is whole, advances past it.
std::vector<uint64_t> DrainNumbers(Journal& j, const std::string& sub) {
  std::vector<uint64_t> numbers;
  for (;;) {
    auto r = j.Read(sub, 1000);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->empty()) return numbers;
    for (const Entry& e : *r) {
      EXPECT_EQ(e.payload, Line(NumberOf(e.payload))) << "a damaged record";
      numbers.push_back(NumberOf(e.payload));
    }
    EXPECT_TRUE(j.Advance(sub, r->back().next).ok());
  }
}

bool Contiguous(const std::vector<uint64_t>& v) {
  for (size_t k = 1; k < v.size(); ++k) {
    if (v[k] != v[k - 1] + 1) return false;
  }
  return true;
}

TEST(JournalCrashTest, Kill9WhileAppendingAndConsumingLosesAndDoublesNothing) {
  char tmpl[] = "/tmp/journal_crash.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  fs::path dir = fs::path(tmpl) / "mainlog";
  std::mt19937 rng(7);
  uint64_t next = 0;  // the next number a writer appends = every record so far, checked
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int rounds = 0;
  for (; rounds < 25 && std::chrono::steady_clock::now() < deadline; ++rounds) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) Writer(dir, next, ready[1]);
    ::close(ready[1]);
    // Odd rounds kill at any moment, opening and recovery included; even rounds first wait
    // for the writer to be appending, so a loaded machine (where a child may hardly run in
    // 40 ms) still gets past the opening in half the rounds.
    char byte;
    if (rounds % 2 == 0) {
      ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the writer died early";
    }
    ::close(ready[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 40));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the writer stopped by itself: exit " << WEXITSTATUS(status);

    auto j = Journal::Open(Options(dir));
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    // =>check saw nothing of this round yet: all the writer appended, from `next` on, no gap.
    std::vector<uint64_t> all = DrainNumbers(**j, "=>check");
    if (!all.empty()) {
      ASSERT_EQ(all.front(), next) << "round " << rounds << ": lost or doubled at the start";
      ASSERT_TRUE(Contiguous(all)) << "round " << rounds << ": a gap";
    }
    // =>master was consumed by the writer up to some record: the rest is a whole suffix.
    std::vector<uint64_t> rest = DrainNumbers(**j, "=>master");
    if (!rest.empty()) {
      ASSERT_FALSE(all.empty());
      EXPECT_GE(rest.front(), next) << "round " << rounds << ": an old line came back";
      EXPECT_EQ(rest.back(), all.back()) << "round " << rounds;
      EXPECT_TRUE(Contiguous(rest)) << "round " << rounds;
    }
    if (!all.empty()) next = all.back() + 1;
    // Both read to the end: only the segment being written is left.
    JournalStats stats = (*j)->Stats();
    EXPECT_EQ(stats.segments, 1u) << "round " << rounds;
    for (const auto& sub : stats.subscribers) EXPECT_EQ(sub.pending_bytes, 0u) << sub.name;
  }
  EXPECT_GT(next, 100u) << "the writer hardly ran";
  EXPECT_GE(rounds, 5);
  std::printf("%d kills, %llu records\n", rounds, static_cast<unsigned long long>(next));
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace ec::journal
