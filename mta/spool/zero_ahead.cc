#include "mta/spool/zero_ahead.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace ec::spool {

ZeroAhead::ZeroAhead(Options options, std::function<void(std::string_view)> log)
    : options_(options), log_(std::move(log)) {
  thread_ = std::thread([this] { Run(); });
}

ZeroAhead::~ZeroAhead() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void ZeroAhead::Follow(int fd, uint64_t end, uint64_t limit, std::string what) {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return !using_fd_; });
  fd_ = fd;
  what_ = std::move(what);
  claimed_ = zeroed_ = end;
  limit_ = limit;
  failed_ = false;
  if (Wanted()) work_.notify_one();
}

void ZeroAhead::Claim(uint64_t end) {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return !writing_ || writing_from_ >= end; });
  if (end <= claimed_) return;
  claimed_ = end;
  // Woken only when a whole chunk is due: a wake-up per claim would cost the writer a context
  // switch per record.
  if (!using_fd_ && Wanted()) work_.notify_one();
}

void ZeroAhead::Stop() {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return !using_fd_; });
  fd_ = -1;
}

void ZeroAhead::SetPaused(bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  if (paused_ == paused) return;
  paused_ = paused;
  if (!using_fd_ && Wanted()) work_.notify_one();
}

uint64_t ZeroAhead::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return !using_fd_ && !Wanted(); });
  return fd_ < 0 ? 0 : std::max(zeroed_, claimed_);
}

// Only whole chunks (or the last piece before the limit): zeroing each claim's few KB as it
// came would cost a sync per claim, beside the writer's own.
bool ZeroAhead::Wanted() const {
  const uint64_t from = std::max(zeroed_, claimed_);
  return fd_ >= 0 && !failed_ && !paused_ && from < limit_ &&
         std::min(from + options_.chunk, limit_) <= claimed_ + options_.lead;
}

void ZeroAhead::Run() {
  const std::vector<char> zeros(options_.chunk, 0);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return quit_ || Wanted(); });
    if (quit_) return;
    const int fd = fd_;
    const uint64_t from = std::max(zeroed_, claimed_);
    const uint64_t to = std::min(from + options_.chunk, limit_);
    using_fd_ = writing_ = true;
    writing_from_ = from;
    lock.unlock();

    int error = 0;
    for (uint64_t at = from; at < to && error == 0;) {
      const ssize_t n = ::pwrite(fd, zeros.data(), static_cast<size_t>(to - at),
                                 static_cast<off_t>(at));
      if (n > 0) {
        at += static_cast<uint64_t>(n);
      } else if (n == 0 || errno != EINTR) {
        error = n == 0 ? EIO : errno;
      }
    }
    lock.lock();
    writing_ = false;
    if (error == 0) zeroed_ = to;
    done_.notify_all();  // a Claim may wait for this write
    lock.unlock();
    // Synced now, so the blocks and the file size are on disk before the writer's next sync.
    if (error == 0 && ::fdatasync(fd) != 0) error = errno;
    lock.lock();
    using_fd_ = false;
    if (error != 0) {
      failed_ = true;
      if (log_) {
        log_("event=zero_ahead_failed file=" + what_ + " offset=" + std::to_string(from) +
             " error=\"" + std::strerror(error) + "\" note=\"appends grow the file instead\"");
      }
    }
    done_.notify_all();
  }
}

}  // namespace ec::spool
