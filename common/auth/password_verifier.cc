#include "common/auth/password_verifier.h"

#include <openssl/crypto.h>

namespace ec::auth {

PasswordVerifier::~PasswordVerifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (Job& job : queue_) OPENSSL_cleanse(job.password.data(), job.password.size());
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

bool PasswordVerifier::Submit(event::EventBase* base, std::shared_ptr<const PasswordFile> file,
                              std::string user, std::string password, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      OPENSSL_cleanse(password.data(), password.size());
      return false;
    }
    queue_.push_back(
        Job{base, std::move(file), std::move(user), std::move(password), std::move(done)});
    if (!worker_.joinable()) worker_ = std::thread([this] { Run(); });
  }
  cv_.notify_one();
  return true;
}

void PasswordVerifier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    const bool ok = job.file->Check(job.user, job.password);
    OPENSSL_cleanse(job.password.data(), job.password.size());
    job.base->RunInLoop([done = std::move(job.done), ok] { done(ok); });
    lock.lock();
  }
}

}  // namespace ec::auth
