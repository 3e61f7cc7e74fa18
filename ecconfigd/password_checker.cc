#include "ecconfigd/password_checker.h"

#include <openssl/crypto.h>

#include "ecconfigd/auth.h"

namespace ec::ecconfigd {
namespace {

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace

Result<std::unique_ptr<PasswordChecker>> PasswordChecker::Create(event_base* base,
                                                                 std::filesystem::path file,
                                                                 size_t max_queue) {
  std::unique_ptr<PasswordChecker> checker(new PasswordChecker(std::move(file), max_queue));
  checker->wake_.reset(event_new(base, -1, 0, &PasswordChecker::OnAnswers, checker.get()));
  if (!checker->wake_) return Internal("event_new failed");
  checker->worker_ = std::thread([c = checker.get()] { c->Work(); });
  return checker;
}

PasswordChecker::~PasswordChecker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    for (Job& job : jobs_) Wipe(job.password);
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool PasswordChecker::Check(std::string user, std::string password, Done done) {
  {
    std::lock_guard lock(mu_);
    if (jobs_.size() >= max_queue_) {
      Wipe(password);
      return false;
    }
    jobs_.push_back({std::move(user), std::move(password), std::move(done)});
  }
  cv_.notify_one();
  return true;
}

void PasswordChecker::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Result<bool> result = false;
    auto file = PasswordFile::Load(file_);
    if (file.ok()) {
      result = file->Verify(job.user, job.password);
    } else {
      result = file.status();
    }
    Wipe(job.password);
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      answers_.push_back({std::move(job.done), std::move(result)});
    }
    event_active(wake_.get(), EV_TIMEOUT, 0);
  }
}

void PasswordChecker::OnAnswers(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<PasswordChecker*>(arg);
  std::vector<Answer> answers;
  {
    std::lock_guard lock(self->mu_);
    answers.swap(self->answers_);
  }
  // No exception may cross into libevent; a throwing callback is the server's bug to log.
  for (Answer& a : answers) {
    try {
      a.done(std::move(a.result));
    } catch (...) {
    }
  }
}

}  // namespace ec::ecconfigd
