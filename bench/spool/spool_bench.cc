// spool_bench: durable accept rate of the spool under N concurrent "sessions" (threads that each
// submit one message and wait for its commit before the next, like SMTP clients waiting for
// 250). Modes:
//   group    - the Spool with group commit (what ecmta uses)
//   single   - the Spool limited to one message per sync (fsync per message, for comparison)
//   files    - Postfix-style: one file per message, written and fsync'ed by its session
// Usage: spool_bench DIR MODE [SESSIONS=20] [MESSAGES=4000] [BODY_BYTES=4096]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace {

using Clock = std::chrono::steady_clock;

bool WriteFileSynced(const std::string& path, const std::string& body) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  bool ok = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DIR group|single|files [SESSIONS] [MESSAGES] [BYTES]\n",
                 argv[0]);
    return 1;
  }
  const std::string dir = argv[1], mode = argv[2];
  const int sessions = argc > 3 ? std::atoi(argv[3]) : 20;
  const int messages = argc > 4 ? std::atoi(argv[4]) : 4000;
  const size_t bytes = argc > 5 ? static_cast<size_t>(std::atoll(argv[5])) : 4096;
  std::filesystem::create_directories(dir);

  std::unique_ptr<ec::spool::Spool> spool;
  if (mode == "group" || mode == "single") {
    ec::spool::SpoolOptions options;
    options.spoolbase = dir;
    if (mode == "single") options.max_batch_messages = 1;
    auto opened = ec::spool::Spool::Open(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      return 1;
    }
    spool = std::move(opened).value();
  } else if (mode != "files") {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 1;
  }

  std::atomic<int> next{0}, failures{0};
  std::vector<std::vector<double>> latencies(sessions);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < sessions; ++s) {
    threads.emplace_back([&, s] {
      for (int n; (n = next++) < messages;) {
        const std::string tag = std::to_string(n);
        std::string body = ec::spool::testing::MakeBody(tag, bytes);
        const auto t0 = Clock::now();
        bool ok;
        if (spool) {
          ok = ec::spool::testing::SubmitAndWait(*spool, ec::spool::testing::MakeEnvelope(tag, 1),
                                                 std::move(body))
                   .ok();
        } else {
          ok = WriteFileSynced(dir + "/msg" + tag, body);
        }
        if (!ok) failures++;
        latencies[s].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))];
  };
  std::printf(
      "mode=%s sessions=%d messages=%d body_bytes=%zu failures=%d seconds=%.3f "
      "msg_per_s=%.0f p50_ms=%.2f p99_ms=%.2f",
      mode.c_str(), sessions, messages, bytes, failures.load(), seconds, messages / seconds,
      pct(0.5), pct(0.99));
  if (spool) {
    const auto st = spool->stats();
    std::printf(" syncs=%llu msgs_per_sync=%.1f largest_batch=%llu",
                static_cast<unsigned long long>(st.batches),
                st.batches ? double(st.messages_committed) / double(st.batches) : 0.0,
                static_cast<unsigned long long>(st.largest_batch));
  }
  std::printf("\n");
  return failures.load() == 0 ? 0 : 1;
}
