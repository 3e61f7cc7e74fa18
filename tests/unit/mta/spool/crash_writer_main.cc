// spool_crash_writer SPOOLBASE THREADS MAX_MESSAGES: submits 4 KB messages from THREADS threads
// as fast as the spool commits them and prints "<queue id> <token> K" for each, only after its
// commit callback, flushed at once. One message in eight is streamed instead, as SMTP receives
// a large one: a 200 KB IncomingBody that spills to a temporary file (token ends in "s"). Three
// messages in four are removed right after their commit (as if delivered) and printed with "D"
// instead, so reclaiming and compaction run under the kill too. The crash test kills it with
// SIGKILL at random moments and checks that every printed id survived intact. Exits 2 if the spool
// cannot be opened.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace {

void WriteLine(const std::string& line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) std::_Exit(3);
    done += static_cast<size_t>(n);
  }
}

// The body of the message with `token` (the crash test checks it).
std::string BodyFor(const std::string& token) {
  return ec::spool::testing::MakeBody(token, token.back() == 's' ? 200000 : 4096);
}

ec::Result<ec::spool::QueueId> SubmitStreamed(ec::spool::Spool& spool, const std::string& token) {
  auto body = spool.NewIncomingBody();
  const std::string content = BodyFor(token);
  for (size_t pos = 0; pos < content.size(); pos += 16384) {
    body->Append(std::string_view(content).substr(pos, 16384));
  }
  ec::spool::testing::Waiter<ec::Result<ec::spool::QueueId>> waiter;
  spool.Submit(ec::spool::QueueId(), ec::spool::testing::MakeEnvelope(token), "", std::move(body),
               [&](ec::Result<ec::spool::QueueId> r) { waiter.Set(std::move(r)); });
  auto result = waiter.Wait();
  if (!result) return ec::Internal("no commit callback within the deadline");
  return std::move(*result);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s SPOOLBASE THREADS MAX_MESSAGES\n", argv[0]);
    return 1;
  }
  ec::spool::SpoolOptions options;
  options.spoolbase = argv[1];
  options.segment_bytes = 64 * 1024;  // many segments: rollover and compaction get killed too
  const int threads = std::atoi(argv[2]);
  const int max_messages = std::atoi(argv[3]);
  auto spool = ec::spool::Spool::Open(options);
  if (!spool.ok()) {
    std::fprintf(stderr, "open: %s\n", spool.status().ToString().c_str());
    return 2;
  }
  std::atomic<int> issued{0};
  std::vector<std::thread> workers;
  const std::string run = std::to_string(::getpid());
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int n = 0; issued++ < max_messages; ++n) {
        const bool streamed = n % 8 == 1;
        const std::string token =
            run + "-" + std::to_string(t) + "-" + std::to_string(n) + (streamed ? "s" : "");
        auto id = streamed ? SubmitStreamed(**spool, token)
                           : ec::spool::testing::SubmitAndWait(
                                 **spool, ec::spool::testing::MakeEnvelope(token), BodyFor(token));
        if (!id.ok()) {
          std::fprintf(stderr, "submit: %s\n", id.status().ToString().c_str());
          std::_Exit(4);
        }
        const bool delivered = n % 4 != 0;
        if (delivered && !(*spool)->Remove(*id).ok()) std::_Exit(5);
        WriteLine(id->ToString() + " " + token + (delivered ? " D\n" : " K\n"));
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
