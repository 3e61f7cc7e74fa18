// PasswordChecker: verifies admin passwords against the password file on one worker thread, so
// that a PBKDF2 of 600,000 iterations (~0.3 s) does not stall the event loop for fetches and long
// polls. Check() is called on the loop thread; `done` runs later on the same loop thread (an
// event activated from the worker). The file is re-read for every check, so `ecconfigd passwd`
// takes effect without a restart. The queue is bounded: a full queue refuses at once. Owned by
// the ConfigServer; destroy it on the loop thread (it joins the worker; pending answers dropped).
#pragma once

#include <event2/event.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/status.h"
#include "common/event/handles.h"

namespace ec::ecconfigd {

class PasswordChecker {
 public:
  // Result: true when the password matches, false when not; an error when the file is unreadable.
  using Done = std::function<void(Result<bool>)>;

  static Result<std::unique_ptr<PasswordChecker>> Create(event_base* base,
                                                         std::filesystem::path password_file,
                                                         size_t max_queue);
  PasswordChecker(const PasswordChecker&) = delete;
  PasswordChecker& operator=(const PasswordChecker&) = delete;
  ~PasswordChecker();

  // False (and `done` is dropped) when max_queue checks are already waiting.
  bool Check(std::string user, std::string password, Done done);

 private:
  struct Job {
    std::string user, password;
    Done done;
  };
  struct Answer {
    Done done;
    Result<bool> result;
  };
  PasswordChecker(std::filesystem::path file, size_t max_queue)
      : file_(std::move(file)), max_queue_(max_queue) {}
  void Work();
  static void OnAnswers(evutil_socket_t, short, void* arg);

  const std::filesystem::path file_;
  const size_t max_queue_;
  event::EventPtr wake_;  // activated by the worker, never added
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;         // guarded by mu_
  std::vector<Answer> answers_;  // guarded by mu_
  bool stop_ = false;            // guarded by mu_
  std::thread worker_;
};

}  // namespace ec::ecconfigd
