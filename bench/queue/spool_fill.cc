// spool_fill: writes N small messages straight into a spool directory with ec::spool::Spool, the
// way ecmta stores accepted mail (group commit, fdatasync per batch), so bench/queue/million.sh
// can start ecmta on a queue of a million messages without pushing them through SMTP.
//
// Each message has one recipient u<n>@d<n % DOMAINS>.bench.test and a body of a few headers plus
// text, MIN_BYTES..MAX_BYTES long (deterministic per message; MIN_BYTES >= 512, room for the
// headers). At most kWindow submits are in flight; the committer takes what is pending as one
// batch. Bounded by N and by TIME_LIMIT_S. DEFERRED_PCT percent of the messages (every one whose
// number n has n % 100 < DEFERRED_PCT) then get an update record, as after a failed attempt:
// retried once, next attempt in a day, so ecmta queues them as delayed, not ready.
//
// Usage: spool_fill SPOOL_DIR [N=1000000] [DOMAINS=1000] [MIN_BYTES=1024] [MAX_BYTES=2048]
//                   [TIME_LIMIT_S=600] [DEFERRED_PCT=0]
// Prints one line of key=value results; exits 1 if any submit failed or the limit was hit.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include "mta/spool/spool.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kWindow = 16384;  // submits in flight: 4 full batches of the committer

struct Args {
  std::string dir;
  long long n = 1000000;
  long long domains = 1000;
  long long min_bytes = 1024;
  long long max_bytes = 2048;
  long long time_limit_s = 600;
  long long deferred_pct = 0;
};

bool ParseCount(const char* text, long long lo, long long hi, long long* out) {
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  if (argc < 2 || argc > 8) return false;
  a->dir = argv[1];
  return (argc <= 2 || ParseCount(argv[2], 1, 100000000, &a->n)) &&
         (argc <= 3 || ParseCount(argv[3], 1, 1000000, &a->domains)) &&
         (argc <= 4 || ParseCount(argv[4], 512, 1 << 20, &a->min_bytes)) &&
         (argc <= 5 || ParseCount(argv[5], a->min_bytes, 1 << 20, &a->max_bytes)) &&
         (argc <= 6 || ParseCount(argv[6], 1, 86400, &a->time_limit_s)) &&
         (argc <= 7 || ParseCount(argv[7], 0, 100, &a->deferred_pct));
}

// A plausible RFC 5322 message of exactly `size` bytes (headers, blank line, text lines).
std::string MakeBody(long long n, const std::string& rcpt, size_t size) {
  const std::string id = std::to_string(n);
  std::string body = "From: Bench Sender <bench@sender.bench.test>\r\nTo: <" + rcpt +
                     ">\r\nSubject: queue benchmark message " + id + "\r\nMessage-ID: <" + id +
                     ".fill@sender.bench.test>\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  const std::string line = "message " + id + ": the quick brown fox jumps over the lazy dog\r\n";
  while (body.size() + line.size() + 2 <= size) body += line;
  body.append(size > body.size() + 2 ? size - body.size() - 2 : 0, 'x');
  body += "\r\n";
  return body;
}

// Bytes the spool's files take on disk (allocated blocks) and their apparent size; per message
// this is divided by every message in the spool, not only those written by this run.
void DiskUsage(const std::string& dir, unsigned long long* allocated,
               unsigned long long* apparent) {
  *allocated = *apparent = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    struct stat st;
    if (::stat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    *allocated += static_cast<unsigned long long>(st.st_blocks) * 512;
    *apparent += static_cast<unsigned long long>(st.st_size);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    std::fprintf(stderr,
                 "usage: %s SPOOL_DIR [N=1000000] [DOMAINS=1000] [MIN_BYTES=1024] "
                 "[MAX_BYTES=2048] [TIME_LIMIT_S=600] [DEFERRED_PCT=0]\n",
                 argv[0]);
    return 2;
  }
  ec::spool::SpoolOptions options;
  options.spoolbase = a.dir;
  auto opened = ec::spool::Spool::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "spool_fill: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<ec::spool::Spool> spool = std::move(opened).value();

  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  long long ok = 0, failed = 0;
  std::string first_error;
  auto on_done = [&](ec::Result<ec::spool::QueueId> r) {
    std::lock_guard<std::mutex> lock(mu);
    --in_flight;
    if (r.ok()) {
      ++ok;
    } else {
      if (failed++ == 0) first_error = r.status().ToString();
    }
    cv.notify_all();
  };

  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(a.time_limit_s);
  const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const long long span = a.max_bytes - a.min_bytes + 1;
  // As after one failed attempt: the next one in a day.
  const ec::spool::RecipientState deferred{ec::spool::RecipientState::Kind::kPending, 1,
                                           now_us + 86400LL * 1000000};
  unsigned long long body_bytes = 0;
  long long submitted = 0;
  bool timed_out = false;
  for (; submitted < a.n; ++submitted) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_until(lock, deadline, [&] { return in_flight < kWindow; })) {
        timed_out = true;
        break;
      }
      if (failed > 0) break;  // the disk is full or broken: stop, report
      ++in_flight;
    }
    const long long n = submitted;
    ec::spool::Envelope env;
    env.mail_from = "bench@sender.bench.test";
    const std::string rcpt =
        "u" + std::to_string(n) + "@d" + std::to_string(n % a.domains) + ".bench.test";
    env.rcpts.push_back({rcpt, "", 0});
    env.received_us = now_us + n;
    env.client_ip = "127.0.0.1";
    env.helo = "fill.bench.test";
    // Deterministic spread over [min, max] (multiplicative hash of n).
    const uint64_t spread = static_cast<uint64_t>(n) * 2654435761u % static_cast<uint64_t>(span);
    const size_t size = static_cast<size_t>(a.min_bytes) + static_cast<size_t>(spread);
    std::string body = MakeBody(n, rcpt, size);
    body_bytes += body.size();
    if (n % 100 < a.deferred_pct) {
      // Runs on the committer thread, which takes the update into a later batch.
      spool->Submit(std::move(env), std::move(body), [&](ec::Result<ec::spool::QueueId> r) {
        if (r.ok()) (void)spool->Update(*r, {{0, deferred}});
        on_done(std::move(r));
      });
    } else {
      spool->Submit(std::move(env), std::move(body), on_done);
    }
    if (Clock::now() > deadline) {
      ++submitted;
      timed_out = true;
      break;
    }
  }
  {
    // Wait for the rest of the callbacks (bounded: a minute past the deadline at most).
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_until(lock, std::max(deadline, Clock::now()) + std::chrono::seconds(60),
                       [&] { return in_flight == 0; })) {
      std::fprintf(stderr, "spool_fill: %zu commits never completed\n", in_flight);
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const ec::spool::SpoolStats st = spool->stats();
  const size_t queued = spool->size();
  spool.reset();  // joins the committer; everything is synced
  unsigned long long allocated = 0, apparent = 0;
  DiskUsage(a.dir, &allocated, &apparent);
  std::printf(
      "fill messages=%lld failed=%lld queued=%zu seconds=%.2f msg_per_s=%.0f body_bytes=%llu "
      "spool_bytes_written=%llu syncs=%llu disk_bytes=%llu apparent_bytes=%llu "
      "disk_bytes_per_msg=%.0f%s\n",
      ok, failed, queued, seconds, seconds > 0 ? double(ok) / seconds : 0.0, body_bytes,
      static_cast<unsigned long long>(st.bytes_written),
      static_cast<unsigned long long>(st.batches), allocated, apparent,
      queued > 0 ? double(allocated) / double(queued) : 0.0, timed_out ? " timed_out=1" : "");
  if (failed > 0) std::fprintf(stderr, "spool_fill: first error: %s\n", first_error.c_str());
  return failed == 0 && !timed_out && ok == a.n ? 0 : 1;
}
