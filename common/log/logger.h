// The process log: one line per event, `key=value` fields, to stderr or a file.
//
//   2026-11-22T03:50:01.123Z level=info node=n1 msg="accepted" session=12 peer=127.0.0.1
//
// A call site:  EC_LOG(kInfo, "accepted").Field("session", id).Field("peer", ip);
// Below the logger's level the whole expression, field arguments included, is skipped.
// Logger::Global() is the daemon's logger; a Logger of its own serves tests and tools
// (EC_LOG_TO). Thread-safe: every member may be called from any thread; each line is one
// write(2). A daemon's SIGHUP handler calls Reopen() after logrotate renamed the file.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/log/line_file.h"

namespace ec::log {

enum class Level : int { kError = 0, kWarn, kInfo, kDebug, kTrace };

std::string_view LevelName(Level level);
// "error", "warn"/"warning", "info", "debug", "trace" (any case).
Result<Level> ParseLevel(std::string_view text);

// Appends `value` to `out`, in double quotes with \" \\ \n \r \t and \xHH escapes when it is
// empty or holds a space, quote, '=', backslash, control or non-ASCII byte; bare otherwise.
void AppendValue(std::string* out, std::string_view value);
// Appends `value` always quoted (the msg field), escaped as above.
void AppendQuoted(std::string* out, std::string_view value);

class Logger {
 public:
  // Writes to stderr at level info.
  Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  static Logger& Global();

  bool Enabled(Level level) const {
    return static_cast<int>(level) <= level_.load(std::memory_order_relaxed);
  }
  void SetLevel(Level level) { level_.store(static_cast<int>(level), std::memory_order_relaxed); }
  Level level() const { return static_cast<Level>(level_.load(std::memory_order_relaxed)); }

  // The node=... field on every line; empty leaves it out.
  void SetNode(std::string node);
  // Sends further lines to `path` (appending; created 0640). On failure the sink is unchanged.
  Status LogToFile(std::string path);
  void LogToStderr();
  // Reopens the log file (no-op on stderr).
  Status Reopen();

  // Stamps and writes one line; `body` is `msg="..." k=v ...` without the newline.
  void Emit(Level level, std::string_view body);

 private:
  std::atomic<int> level_;
  std::mutex mu_;
  std::string node_;                // guarded by mu_
  std::unique_ptr<LineFile> file_;  // guarded by mu_; null means stderr
};

// One line being built; written when destroyed (at the end of the EC_LOG statement).
class LogLine {
 public:
  LogLine(Logger& logger, Level level, std::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Field(std::string_view key, std::string_view value);
  LogLine& Field(std::string_view key, const char* value) {
    return Field(key, std::string_view(value ? value : ""));
  }
  LogLine& Field(std::string_view key, const std::string& value) {
    return Field(key, std::string_view(value));
  }
  LogLine& Field(std::string_view key, bool value) {
    return Field(key, std::string_view(value ? "true" : "false"));
  }
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) LogLine& Field(std::string_view key,
                                                                            T value) {
    return Field(key, std::string_view(std::to_string(value)));
  }
  LogLine& Field(std::string_view key, double value);
  // error=... with the status text (or "OK").
  LogLine& Field(std::string_view key, const Status& status) {
    return Field(key, std::string_view(status.ToString()));
  }

 private:
  Logger& logger_;
  Level level_;
  std::string body_;
};

namespace internal {
// Lets `cond ? (void)0 : Voidify() & LogLine(...).Field(...)` be one expression: `&` binds
// more loosely than the `.Field` calls, so the whole chain sits inside the skipped branch.
struct Voidify {
  void operator&(const LogLine&) {}
};
}  // namespace internal

}  // namespace ec::log

#define EC_LOG_TO(logger, level, msg)        \
  !(logger).Enabled(::ec::log::Level::level) \
      ? (void)0                              \
      : ::ec::log::internal::Voidify() &     \
            ::ec::log::LogLine((logger), ::ec::log::Level::level, (msg))
#define EC_LOG(level, msg) EC_LOG_TO(::ec::log::Logger::Global(), level, msg)
