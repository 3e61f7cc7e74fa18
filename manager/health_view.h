// HealthView: the latest HealthRecord of every bus member as eccmgr received it, combined with
// eccmgr's own bus view into the cluster's health: JSON for /health, Prometheus text for
// /metrics, a table for `show cluster health`. A member is healthy when the bus sees it ALIVE and
// its last record is younger than three report intervals. The DuraVIP table (`show cluster
// duravip`, /health "duravip", the ec_duravip_* metrics) comes from the same records through the
// pure BuildDuravipTable; only healthy members' claims count.
// Owned by ManagerDaemon; loop thread of the Bus. The free functions are pure; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "msgc/bus.h"
#include "msgc/health_record.h"

namespace ec::manager {

// Since when a member has listed each of its addresses: the arrival of the first record of the
// current run that lists it (eccmgr's clock, so the nodes' clocks do not matter).
using ClaimedSince = std::map<std::string, msgc::Clock::time_point>;

// One member's latest record as the DuraVIP table sees it.
struct DuravipReport {
  const msgc::HealthRecord* record = nullptr;
  bool counts = false;                  // healthy: ALIVE on eccmgr's bus and the record recent
  msgc::Clock::time_point received;     // arrival of that record
  const ClaimedSince* since = nullptr;  // null, or an address missing: since `received`
};

// Records come every report interval, not when an address moves, so after a move the old
// holder's last record still lists the address for up to an interval: kHandover. Only claims
// that overlap in time (each side's latest record is no older than the other's first listing)
// are kConflict, the split brain DuraVIP must never allow.
enum class DuravipState { kOwned, kHandover, kConflict, kUnheld };
const char* DuravipStateName(DuravipState state);  // owned, handover, CONFLICT, unheld

// One DuraVIP address as the cluster reports it.
struct DuravipAddress {
  std::string address;
  std::vector<std::string> holders;      // members whose claim counts, sorted
  std::vector<std::string> not_counted;  // members claiming it whose record does not count
  DuravipState state = DuravipState::kUnheld;
  bool conflict() const { return state == DuravipState::kConflict; }
};

// One reporting member's DuraVIP counters.
struct DuravipNode {
  std::string member;
  bool counted = false;
  size_t held = 0;  // distinct addresses in its record
  uint64_t takeovers = 0;
};

struct DuravipTable {
  std::vector<DuravipAddress> addresses;  // every address in any record, sorted as strings
  std::vector<DuravipNode> nodes;         // every member with a record, sorted by name
  size_t conflicts() const;
};

// An address listed only by members that do not count stays in the table, unheld: nobody serves
// it (a node that died holding it, with no successor).
DuravipTable BuildDuravipTable(const std::vector<DuravipReport>& reports);
// The `show cluster duravip` text: conflicts first, a summary, one line per address and per node.
std::string FormatDuravipTable(const DuravipTable& table);

class HealthView {
 public:
  explicit HealthView(std::chrono::milliseconds report_interval)
      : report_interval_(report_interval) {}

  // A record sent by `sender`; refused if it speaks for another member.
  Status Update(const std::string& sender, msgc::HealthRecord record,
                msgc::Clock::time_point now = msgc::Clock::now());
  const msgc::HealthRecord* Find(const std::string& member) const;
  // The member left the configuration (config reload): its record goes.
  void Forget(const std::string& member) { records_.erase(member); }
  size_t size() const { return records_.size(); }
  uint64_t updates() const { return updates_; }

  // `self` is eccmgr's own record (made by the caller from the bus).
  std::string Json(const msgc::Bus& bus, const msgc::HealthRecord& self,
                   msgc::Clock::time_point now = msgc::Clock::now()) const;
  std::string Prometheus(const msgc::Bus& bus,
                         msgc::Clock::time_point now = msgc::Clock::now()) const;
  std::string Text(const msgc::Bus& bus, msgc::Clock::time_point now = msgc::Clock::now()) const;
  DuravipTable Duravip(const msgc::Bus& bus,
                       msgc::Clock::time_point now = msgc::Clock::now()) const;

 private:
  struct Entry {
    msgc::HealthRecord record;
    msgc::Clock::time_point received;
    ClaimedSince duravip_since;
  };
  bool Healthy(const msgc::Bus& bus, const std::string& member, const Entry* entry,
               msgc::Clock::time_point now) const;

  std::chrono::milliseconds report_interval_;
  std::map<std::string, Entry> records_;
  uint64_t updates_ = 0;
};

}  // namespace ec::manager
