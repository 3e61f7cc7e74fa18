// Helpers shared by the spool tests: a temporary directory, test envelopes, a blocking Submit
// that waits (with a deadline) for the commit callback, and segment file access.
#pragma once

#include <stdlib.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mta/spool/record.h"
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

// `id` from NewId(), or invalid to have one assigned.
inline Result<QueueId> SubmitAndWait(Spool& spool, QueueId id, Envelope envelope,
                                     std::string body) {
  Waiter<Result<QueueId>> waiter;
  spool.Submit(id, std::move(envelope), std::move(body),
               [&](Result<QueueId> r) { waiter.Set(std::move(r)); });
  auto result = waiter.Wait();
  if (!result) return Internal("no commit callback within the deadline");
  return std::move(*result);
}

inline Result<QueueId> SubmitAndWait(Spool& spool, Envelope envelope, std::string body) {
  return SubmitAndWait(spool, QueueId(), std::move(envelope), std::move(body));
}

// An IoHooks::pwritev for a disk that fills up: passes while `*mode` is 0; at 1 writes the
// first 10 bytes of the first piece (a short write) and moves to 2; at 2 fails with ENOSPC.
inline auto ShortWriteThenDiskFull(std::atomic<int>* mode) {
  return [mode](int fd, const struct iovec* iov, int count, off_t offset) -> ssize_t {
    if (mode->load() == 1) {
      *mode = 2;
      struct iovec part = iov[0];
      part.iov_len = std::min<size_t>(part.iov_len, 10);
      return ::pwritev(fd, &part, 1, offset);
    }
    if (mode->load() == 2) {
      errno = ENOSPC;
      return -1;
    }
    return ::pwritev(fd, iov, count, offset);
  };
}

inline SpoolOptions QuietOptions(const std::string& dir) {
  SpoolOptions options;
  options.spoolbase = dir;
  options.log = [](std::string_view) {};
  return options;
}

inline std::unique_ptr<Spool> OpenOrDie(const SpoolOptions& options) {
  auto spool = Spool::Open(options);
  EC_CHECK(spool.ok());
  return std::move(spool).value();
}

inline std::vector<std::filesystem::path> SegmentFiles(const std::string& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every valid record in the segments under `dir`, file by file in order.
inline void ForEachRecord(const std::string& dir,
                          const std::function<void(ScannedRecord&&)>& visit) {
  for (const auto& file : SegmentFiles(dir)) {
    const std::string bytes = ReadFile(file);
    ScanRecords(std::string_view(bytes).substr(kSegmentHeaderSize), true, visit);
  }
}

inline void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace ec::spool::testing
