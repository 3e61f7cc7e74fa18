// What every inbound SMTP connection shares: the services it calls (spool, logs, counters) and
// the per-config-snapshot settings of its Listen socket. Services live as long as the daemon;
// a ListenSettings is immutable and shared by the connections accepted under one snapshot, so a
// reload never changes a session in flight. Loop thread, except the atomic counters.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/event/event_base.h"
#include "mta/logs/mta_logs.h"
#include "common/auth/failure_limiter.h"
#include "common/auth/password_file.h"
#include "common/auth/password_verifier.h"
#include "mta/server/inbound_throttles.h"
#include "mta/smtp/session_policy.h"
#include "mta/spool/spool.h"

namespace ec::mta {

// The figures `summary` reports. Written on the loop thread, read from any.
struct InboundStats {
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_current{0};
  std::atomic<uint64_t> connections_refused{0};  // ACL, limits
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> recipients_received{0};
  std::atomic<uint64_t> bytes_received{0};
  std::atomic<uint64_t> messages_rejected{0};  // a 5xx/4xx to DATA/BDAT or a store failure
  std::atomic<uint64_t> store_failures{0};
};

struct InboundServices {
  event::EventBase* base = nullptr;
  spool::Spool* spool = nullptr;
  MtaLogs* logs = nullptr;  // may be null (no ec_logger configured)
  InboundStats* stats = nullptr;
  std::string node_name;
  // Tells the outbound scheduler about a message now durable in the spool: its recipients and
  // the binding (or binding group) its envelope names, if any. May be empty.
  std::function<void(spool::QueueId, const std::vector<std::string>& rcpts,
                     const std::string& binding, const std::string& binding_group)>
      on_queued;
  // Counts connections, for connection ids unique within this process run.
  std::atomic<uint64_t> next_connection{1};
  // The shared named throttles that transactions take a unit of (null: none enforced).
  InboundThrottles* throttles = nullptr;
  // Failed AUTH per client address, across sessions (loop thread only).
  auth::FailureLimiter auth_failures;
  // Checks AUTH passwords on its own thread.
  auth::PasswordVerifier password_verifier;
};

// The settings of one Listen socket for one client, resolved from a config snapshot.
struct ListenSettings {
  std::shared_ptr<const smtp::SessionPolicy> policy;
  std::shared_ptr<SSL_CTX> tls;                    // null: STARTTLS not offered
  std::shared_ptr<const auth::PasswordFile> passwords;   // null: AUTH not offered
  std::chrono::milliseconds idle_timeout{300000};  // idle_time; 0 = never
  std::chrono::milliseconds total_timeout{0};      // whole session; 0 = never
  std::string listen_name;                         // the Listen scope, for logs
  bool refused = false;             // a Peer scope with enable = false: 554 at connect
  size_t sessions_per_address = 0;  // sessions_per_client_address; 0 = no cap
  // Outbound binding for mail from this client (set_binding / set_binding_group); both empty:
  // decided per destination domain when queued.
  std::string binding;
  std::string binding_group;
  // The Shared_Throttle each transaction (MAIL FROM) takes a unit of; empty: none.
  std::string shared_throttle;
};

}  // namespace ec::mta
