#include "mta/cluster/config_puller.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace ec::mta::cluster {
namespace {

constexpr size_t kMaxCovered = 64;

}  // namespace

bool IsRevisionId(std::string_view revision) {
  if (revision.size() != 40) return false;
  for (char c : revision) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

ConfigPuller::ConfigPuller(event::EventBase& base, ConfigPullerOptions options)
    : options_(std::move(options)), poll_timer_(base, [this] { Poll(); }) {}

ConfigPuller::~ConfigPuller() {
  poll_timer_.Stop();
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool ConfigPuller::Covered(const std::string& revision) const {
  auto has = [&revision](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), revision) != v.end();
  };
  if (has(covered_) || has(in_flight_) || has(waiting_)) return true;
  auto f = failed_at_.find(revision);
  return f != failed_at_.end() &&
         std::chrono::steady_clock::now() - f->second < options_.retry_after;
}

Status ConfigPuller::Notice(std::string_view revision) {
  if (!IsRevisionId(revision)) {
    return InvalidArgument("config notice is not a 40-hex revision id");
  }
  std::string rev(revision);
  for (char& c : rev) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (Covered(rev)) {
    ++duplicates_;
    return Status::Ok();
  }
  std::erase_if(failed_at_, [this](const auto& entry) {
    return std::chrono::steady_clock::now() - entry.second >= options_.retry_after;
  });
  last_revision_ = rev;
  waiting_.push_back(std::move(rev));
  if (running()) {
    if (waiting_.size() > 1) ++coalesced_;
    return Status::Ok();
  }
  Spawn();
  return Status::Ok();
}

void ConfigPuller::Spawn() {
  in_flight_ = std::move(waiting_);
  waiting_.clear();
  killed_ = false;
  ++started_;
  std::vector<char*> argv;
  for (const std::string& a : options_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  // Its own process group, so a kill reaches whatever the pull started too (git, ec_console).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  int err = options_.argv.empty()
                ? EINVAL
                : ::posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    ++failed_;
    for (const std::string& r : in_flight_) failed_at_[r] = std::chrono::steady_clock::now();
    in_flight_.clear();
    if (options_.log) {
      options_.log("event=config_pull_failed revision=" + last_revision_ + " error=\"spawn " +
                   (options_.argv.empty() ? std::string("(no command)") : options_.argv[0]) + ": " +
                   std::strerror(err) + "\"");
    }
    return;
  }
  pid_ = pid;
  spawned_at_ = std::chrono::steady_clock::now();
  if (options_.log) {
    options_.log("event=config_pull_started revision=" + last_revision_ +
                 " pid=" + std::to_string(pid));
  }
  poll_timer_.StartRepeating(options_.poll_interval);
}

void ConfigPuller::Poll() {
  if (pid_ <= 0) {
    poll_timer_.Stop();
    return;
  }
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) {
    if (!killed_ && std::chrono::steady_clock::now() - spawned_at_ > options_.timeout) {
      killed_ = true;
      ::kill(-pid_, SIGKILL);
      if (options_.log) options_.log("event=config_pull_timeout pid=" + std::to_string(pid_));
    }
    return;
  }
  poll_timer_.Stop();
  const pid_t pid = pid_;
  pid_ = -1;
  std::string how;
  bool ok = false;
  if (r < 0) {
    how = std::string("waitpid: ") + std::strerror(errno);
  } else if (WIFEXITED(status)) {
    ok = WEXITSTATUS(status) == 0;
    how = "exit=" + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    how = "signal=" + std::to_string(WTERMSIG(status));
  }
  if (ok) {
    ++succeeded_;
    for (std::string& r : in_flight_) covered_.push_back(std::move(r));
    if (covered_.size() > kMaxCovered) {
      covered_.erase(covered_.begin(), covered_.end() - kMaxCovered);
    }
  } else {
    ++failed_;
    for (const std::string& r : in_flight_) failed_at_[r] = std::chrono::steady_clock::now();
  }
  in_flight_.clear();
  if (options_.log) {
    options_.log(std::string("event=") + (ok ? "config_pull_done" : "config_pull_failed") +
                 " pid=" + std::to_string(pid) + " " + how);
  }
  if (!waiting_.empty()) Spawn();
}

}  // namespace ec::mta::cluster
