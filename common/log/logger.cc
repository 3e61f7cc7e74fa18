#include "common/log/logger.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace ec::log {
namespace {

bool IsBare(unsigned char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\'; }

void AppendEscaped(std::string* out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append("\\x");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));  // printable ASCII and UTF-8 bytes as-is
        }
    }
  }
}

void AppendKey(std::string* out, std::string_view key) {
  if (key.empty()) key = "_";
  for (unsigned char c : key) {
    bool ok = std::isalnum(c) || c == '_' || c == '.' || c == '-';
    out->push_back(ok ? static_cast<char>(c) : '_');
  }
}

// 2026-11-22T03:50:01.123Z
void AppendTimestamp(std::string* out) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, ts.tv_nsec / 1000000);
  out->append(buf, static_cast<size_t>(n));
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarn:
      return "warn";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
    case Level::kTrace:
      return "trace";
  }
  return "unknown";
}

Result<Level> ParseLevel(std::string_view text) {
  std::string lower;
  for (unsigned char c : text) lower.push_back(static_cast<char>(std::tolower(c)));
  if (lower == "error") return Level::kError;
  if (lower == "warn" || lower == "warning") return Level::kWarn;
  if (lower == "info") return Level::kInfo;
  if (lower == "debug") return Level::kDebug;
  if (lower == "trace") return Level::kTrace;
  return InvalidArgument("unknown log level \"" + std::string(text) +
                         "\" (expected error, warn, info, debug or trace)");
}

void AppendQuoted(std::string* out, std::string_view value) {
  out->push_back('"');
  AppendEscaped(out, value);
  out->push_back('"');
}

void AppendValue(std::string* out, std::string_view value) {
  bool bare = !value.empty();
  for (unsigned char c : value) {
    if (!IsBare(c)) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out->append(value);
  } else {
    AppendQuoted(out, value);
  }
}

Logger::Logger() : level_(static_cast<int>(Level::kInfo)) {}

Logger& Logger::Global() {
  static Logger* logger = new Logger();  // never destroyed: threads may log during exit
  return *logger;
}

void Logger::SetNode(std::string node) {
  std::lock_guard<std::mutex> lock(mu_);
  node_ = std::move(node);
}

Status Logger::LogToFile(std::string path) {
  EC_ASSIGN_OR_RETURN(std::unique_ptr<LineFile> file, LineFile::Open(std::move(path)));
  std::lock_guard<std::mutex> lock(mu_);
  file_ = std::move(file);
  return Status::Ok();
}

void Logger::LogToStderr() {
  std::lock_guard<std::mutex> lock(mu_);
  file_.reset();
}

Status Logger::Reopen() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return Status::Ok();
  return file_->Reopen();
}

void Logger::Emit(Level level, std::string_view body) {
  std::string line;
  line.reserve(body.size() + 64);
  std::lock_guard<std::mutex> lock(mu_);
  // Stamped under the lock so a file's lines are in time order.
  AppendTimestamp(&line);
  line.append(" level=");
  line.append(LevelName(level));
  if (!node_.empty()) {
    line.append(" node=");
    AppendValue(&line, node_);
  }
  line.push_back(' ');
  line.append(body);
  line.push_back('\n');
  Status s = file_ ? file_->Append(line) : WriteWhole(STDERR_FILENO, line);
  if (!s.ok() && file_) {
    // The log itself failed (disk full): say so where an operator still looks.
    std::string note = "log write failed: " + s.ToString() + "\n";
    (void)WriteWhole(STDERR_FILENO, note);
  }
}

LogLine::LogLine(Logger& logger, Level level, std::string_view msg)
    : logger_(logger), level_(level) {
  body_.reserve(128);
  body_.append("msg=");
  AppendQuoted(&body_, msg);
}

LogLine::~LogLine() { logger_.Emit(level_, body_); }

LogLine& LogLine::Field(std::string_view key, std::string_view value) {
  body_.push_back(' ');
  AppendKey(&body_, key);
  body_.push_back('=');
  AppendValue(&body_, value);
  return *this;
}

LogLine& LogLine::Field(std::string_view key, double value) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%g", value);
  return Field(key, std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace ec::log
