// Helpers shared by the spool tests: a temporary directory, test envelopes, and a blocking
// Submit that waits (with a deadline) for the commit callback.
#pragma once

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "mta/spool/spool.h"

namespace ec::spool::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "spool_test.XXXXXX").string();
    EC_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline Envelope MakeEnvelope(const std::string& tag, int rcpts = 2) {
  Envelope e;
  e.mail_from = "sender+" + tag + "@example.org";
  for (int i = 0; i < rcpts; ++i) {
    e.rcpts.push_back(
        {"rcpt" + std::to_string(i) + "@example.net", "rfc822;orig@example.net", kNotifyFailure});
  }
  e.received_us = 1700000000000000;
  e.client_ip = "127.0.0.1";
  e.helo = "client.example.org";
  e.auth_user = "alice";
  e.body_type = BodyType::k8BitMime;
  e.flags = 5;
  e.dsn_envid = "env-" + tag;
  e.dsn_ret = DsnRet::kHeaders;
  return e;
}

inline std::string MakeBody(const std::string& tag, size_t size = 4096) {
  std::string body = "Subject: " + tag + "\r\n\r\n";
  while (body.size() < size) body += tag + " line of body text\r\n";
  body.resize(size);
  return body;
}

// Waits for one callback result.
template <typename T>
class Waiter {
 public:
  void Set(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    value_.emplace(std::move(value));
    cv_.notify_all();
  }
  // nullopt if no result came within the deadline.
  std::optional<T> Wait(std::chrono::seconds deadline = std::chrono::seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, deadline, [&] { return value_.has_value(); });
    return std::move(value_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

inline Result<QueueId> SubmitAndWait(Spool& spool, Envelope envelope, std::string body) {
  Waiter<Result<QueueId>> waiter;
  spool.Submit(std::move(envelope), std::move(body),
               [&](Result<QueueId> r) { waiter.Set(std::move(r)); });
  auto result = waiter.Wait();
  if (!result) return Internal("no commit callback within the deadline");
  return std::move(*result);
}

inline SpoolOptions QuietOptions(const std::string& dir) {
  SpoolOptions options;
  options.spoolbase = dir;
  options.log = [](std::string_view) {};
  return options;
}

}  // namespace ec::spool::testing
