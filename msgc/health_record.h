// HealthRecord: what each bus member reports about itself every health-report interval: its
// bus view (members known, alive, peers connected, unhealthy members, view state) and, on MTA
// nodes, its mail counters. It is written as one JSON object to the member's log and shouted on
// group `ec_health`, where eccmgr keeps the latest one per member. The decoder takes input from
// peers, so it accepts only a flat object of strings, unsigned integers and string arrays,
// bounded in size (tests/fuzz/msgc/health_record_fuzz.cc). Value type and pure functions; any
// thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::msgc {

inline constexpr std::string_view kHealthGroup = "ec_health";
inline constexpr size_t kMaxHealthRecordSize = 64 * 1024;

struct HealthRecord {
  std::string member;    // node name
  std::string role;      // "mta", "manager", "configd"
  std::string endpoint;  // bus address:port
  uint64_t incarnation = 0;
  std::string state;  // CONNECTING (no peer heard yet), UNSTABLE (view changing), STABLE (mature)
  uint64_t view_id = 0;
  uint64_t view_stable_ms = 0;
  uint64_t members_known = 0;          // configured members, self included
  uint64_t members_alive = 0;          // self included
  uint64_t peers_connected = 0;        // sending links up
  std::vector<std::string> unhealthy;  // configured members not ALIVE
  uint64_t received = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t queue_size = 0;
  std::vector<std::string> duravips;  // DuraVIP addresses this node holds now
  uint64_t duravip_takeovers = 0;     // addresses it has taken since it started
  // MTA nodes: the 12-hex config revision of the eccfg checkout its configuration was last
  // loaded from; empty when not known (no eccfg working copy). Written only when non-empty, so
  // records of older members and of other roles stay as they were.
  std::string config_revision;
  uint64_t time = 0;  // unix seconds when made

  bool operator==(const HealthRecord&) const = default;
};

// One line of JSON, keys in a fixed order.
std::string HealthRecordToJson(const HealthRecord& record);
// Unknown keys are skipped (a newer member may report more); a wrong type, a duplicate key, bad
// syntax, trailing data or more than kMaxHealthRecordSize bytes is kInvalidArgument.
Result<HealthRecord> ParseHealthRecord(std::string_view json);

// JSON string literal (quotes included) with every control character escaped; used by the
// manager's /health output too.
std::string JsonQuote(std::string_view s);

}  // namespace ec::msgc
