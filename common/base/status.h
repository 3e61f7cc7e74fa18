// ec::Status and ec::Result<T>: how every library reports an expected failure (bad input, a
// peer, the disk, a config error). A failure carries a code from a small set and a message that
// reads well on its own in a log line or on a terminal. Invariants are not Statuses: EC_CHECK.
// Value types; safe to pass between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/base/check.h"

namespace ec {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the input is malformed (config, protocol, command line)
  kNotFound,          // a file, key or peer does not exist
  kAlreadyExists,
  kFailedPrecondition,  // the state does not allow it (stale base, conflict, not running)
  kResourceExhausted,   // disk full, limit reached
  kUnavailable,         // a peer or service cannot be reached now; retrying may help
  kDeadlineExceeded,
  kPermissionDenied,
  kIoError,             // the OS refused an I/O call; the message carries errno's text
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "code: message", or "OK".
  std::string ToString() const;
  // Prefixes context to the message ("reading spool/a/b: " + message); keeps the code.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
// An OS call failed: "<what>: <strerror(err)>". kResourceExhausted for ENOSPC/EDQUOT.
Status ErrnoStatus(std::string_view what, int err);

// Either a T or a failed Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    EC_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { EC_CHECK(ok()); return std::get<T>(v_); }
  const T& value() const& { EC_CHECK(ok()); return std::get<T>(v_); }
  T&& value() && { EC_CHECK(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ec

// Returns the Status from the enclosing function if `expr` failed.
#define EC_RETURN_IF_ERROR(expr)            \
  do {                                      \
    ::ec::Status ec_status_ = (expr);       \
    if (!ec_status_.ok()) return ec_status_; \
  } while (0)

#define EC_CONCAT_INNER_(a, b) a##b
#define EC_CONCAT_(a, b) EC_CONCAT_INNER_(a, b)
// EC_ASSIGN_OR_RETURN(auto x, MakeX()): declares x from the Result or returns its Status.
#define EC_ASSIGN_OR_RETURN(lhs, expr) \
  EC_ASSIGN_OR_RETURN_IMPL_(EC_CONCAT_(ec_result_, __LINE__), lhs, expr)
#define EC_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
