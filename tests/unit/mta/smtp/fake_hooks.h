// Test double for SessionHooks: records what the session asked for, answers credentials from a
// table, hands out queue ids Q1, Q2, ..., a fixed clock, keeps bodies in memory (counting
// discards), and completes stores either at once (inside StoreMessage, as a fast spool might)
// or when the test says so.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/base/check.h"
#include "mta/smtp/session.h"

namespace ec::smtp::testing {

// A stored message with the body its sink received.
struct StoredMessage : ReceivedMessage {
  std::string body;
};

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
  BodySink* OpenBody() override {
    ++bodies_opened;
    sink.data.clear();
    return &sink;
  }
  void StoreMessage(ReceivedMessage message) override {
    EC_CHECK(message.body_size == sink.data.size());
    stored.push_back(StoredMessage{std::move(message), std::move(sink.data)});
    sink.data.clear();
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

  // Keeps the body in memory and counts Discard calls.
  struct CountingSink : BodySink {
    void Append(std::string_view bytes) override { data.append(bytes); }
    void Discard() override {
      data.clear();
      ++discards;
    }
    std::string data;
    int discards = 0;  // over the whole session
  };

  ServerSession* session = nullptr;  // for synchronous store completion
  bool sync_store = true;
  bool auth_tempfail = false;
  std::map<std::string, std::string> users;
  int starttls_calls = 0;
  bool tls_pending = false;    // StartTls was called; the test completes the handshake
  bool store_pending = false;  // StoreMessage was called and not completed yet
  int queue_ids = 0;
  int bodies_opened = 0;
  CountingSink sink;  // the body being received
  std::vector<StoredMessage> stored;
  std::vector<int> rejected;
};

}  // namespace ec::smtp::testing
