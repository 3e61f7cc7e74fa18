// The message data the spool stores: the immutable Envelope written once at acceptance, and the
// mutable per-recipient RecipientState the delivery side updates. Plain value types, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ec::spool {

enum class BodyType : uint8_t { k7Bit = 0, k8BitMime = 1, kBinaryMime = 2 };

// DSN NOTIFY bits (RFC 3461); 0 means the client gave no NOTIFY.
enum NotifyFlags : uint8_t {
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

enum class DsnRet : uint8_t { kUnset = 0, kFull = 1, kHeaders = 2 };

struct Recipient {
  std::string address;  // without angle brackets
  std::string orcpt;    // DSN ORCPT as given, or empty
  uint8_t notify = 0;   // NotifyFlags

  bool operator==(const Recipient&) const = default;
};

struct Envelope {
  std::string mail_from;  // reverse path without brackets; empty for the null sender <>
  std::vector<Recipient> rcpts;
  int64_t received_us = 0;  // acceptance time, microseconds since the epoch
  std::string client_ip;
  std::string helo;
  std::string auth_user;  // empty when the session did not authenticate
  BodyType body_type = BodyType::k7Bit;
  uint32_t flags = 0;  // free for the SMTP side (SMTPUTF8, REQUIRETLS, ...)
  std::string dsn_envid;
  DsnRet dsn_ret = DsnRet::kUnset;
  // Outbound binding chosen at reception (set_binding / set_binding_group on the inbound scope
  // it came through); at most one is set. Both empty: decided per destination domain.
  std::string binding;
  std::string binding_group;

  bool operator==(const Envelope&) const = default;
};

// Where one recipient stands. A recipient starts kPending; kDone and kFailed are final.
struct RecipientState {
  enum class Kind : uint8_t { kPending = 0, kDone = 1, kFailed = 2 };
  Kind kind = Kind::kPending;
  uint32_t retries = 0;
  int64_t next_attempt_us = 0;  // 0: as soon as possible

  bool operator==(const RecipientState&) const = default;
};

// One change to recipient `index` (its position in Envelope::rcpts).
struct RecipientUpdate {
  uint32_t index = 0;
  RecipientState state;

  bool operator==(const RecipientUpdate&) const = default;
};

}  // namespace ec::spool
