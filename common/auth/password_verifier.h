// PasswordVerifier: runs PasswordFile::Check off the loop thread. crypt(3) is slow by design
// (tens of ms, seconds with high $6$ rounds), and on the loop it would stall every session. One
// worker thread, started on first use, with a bounded queue: when kMaxQueued checks already
// wait, Submit refuses and the client gets 454. The verdict comes back on the loop thread
// through EventBase::RunInLoop. Owned by InboundServices, so it is destroyed before the
// EventBase; checks still queued then are dropped (their callback never runs).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/auth/password_file.h"
#include "common/event/event_base.h"

namespace ec::auth {

class PasswordVerifier {
 public:
  static constexpr size_t kMaxQueued = 64;
  using Done = std::function<void(bool ok)>;  // runs on `base`'s loop thread

  PasswordVerifier() = default;
  PasswordVerifier(const PasswordVerifier&) = delete;
  PasswordVerifier& operator=(const PasswordVerifier&) = delete;
  ~PasswordVerifier();

  // False (nothing queued) when the queue is full. Loop thread.
  bool Submit(event::EventBase* base, std::shared_ptr<const PasswordFile> file, std::string user,
              std::string password, Done done);

 private:
  struct Job {
    event::EventBase* base;
    std::shared_ptr<const PasswordFile> file;
    std::string user, password;
    Done done;
  };
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread worker_;     // started by the first Submit
};

}  // namespace ec::auth
