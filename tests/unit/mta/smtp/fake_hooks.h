// Test double for SessionHooks: records what the session asked for, answers credentials from a
// table, hands out queue ids Q1, Q2, ..., a fixed clock, and completes stores either at once
// (inside StoreMessage, as a fast spool might) or when the test says so.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "mta/smtp/session.h"

namespace ec::smtp::testing {

class FakeHooks : public SessionHooks {
 public:
  // 2026-11-22 03:00:00 UTC.
  static constexpr int64_t kNow = 1795316400;

  void StartTls() override {
    ++starttls_calls;
    tls_pending = true;
  }
  AuthVerdict CheckCredentials(std::string_view user, std::string_view password) override {
    if (auth_tempfail) return AuthVerdict::kTemporaryFailure;
    auto it = users.find(std::string(user));
    return it != users.end() && it->second == password ? AuthVerdict::kAccepted
                                                       : AuthVerdict::kRejected;
  }
  std::string NewQueueId() override { return "Q" + std::to_string(++queue_ids); }
  void StoreMessage(ReceivedMessage message) override {
    stored.push_back(std::move(message));
    if (sync_store && session != nullptr) {
      session->OnMessageStored();
    } else {
      store_pending = true;
    }
  }
  std::chrono::system_clock::time_point Now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(kNow));
  }
  void OnRejected(std::string_view command, const Reply& reply) override {
    rejected.push_back(reply.code);
  }

  ServerSession* session = nullptr;  // for synchronous store completion
  bool sync_store = true;
  bool auth_tempfail = false;
  std::map<std::string, std::string> users;
  int starttls_calls = 0;
  bool tls_pending = false;    // StartTls was called; the test completes the handshake
  bool store_pending = false;  // StoreMessage was called and not completed yet
  int queue_ids = 0;
  std::vector<ReceivedMessage> stored;
  std::vector<int> rejected;
};

}  // namespace ec::smtp::testing
