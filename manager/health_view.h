// HealthView: the latest HealthRecord of every bus member as eccmgr received it, combined with
// eccmgr's own bus view into the cluster's health: JSON for /health, Prometheus text for
// /metrics, a table for `show cluster health`. A member is healthy when the bus sees it ALIVE and
// its last record is younger than three report intervals.
// Owned by ManagerDaemon; loop thread of the Bus.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/base/status.h"
#include "msgc/bus.h"
#include "msgc/health_record.h"

namespace ec::manager {

class HealthView {
 public:
  explicit HealthView(std::chrono::milliseconds report_interval)
      : report_interval_(report_interval) {}

  // A record sent by `sender`; refused if it speaks for another member.
  Status Update(const std::string& sender, msgc::HealthRecord record,
                msgc::Clock::time_point now = msgc::Clock::now());
  const msgc::HealthRecord* Find(const std::string& member) const;
  size_t size() const { return records_.size(); }
  uint64_t updates() const { return updates_; }

  // `self` is eccmgr's own record (made by the caller from the bus).
  std::string Json(const msgc::Bus& bus, const msgc::HealthRecord& self,
                   msgc::Clock::time_point now = msgc::Clock::now()) const;
  std::string Prometheus(const msgc::Bus& bus,
                         msgc::Clock::time_point now = msgc::Clock::now()) const;
  std::string Text(const msgc::Bus& bus, msgc::Clock::time_point now = msgc::Clock::now()) const;

 private:
  struct Entry {
    msgc::HealthRecord record;
    msgc::Clock::time_point received;
  };
  bool Healthy(const msgc::Bus& bus, const std::string& member, const Entry* entry,
               msgc::Clock::time_point now) const;

  std::chrono::milliseconds report_interval_;
  std::map<std::string, Entry> records_;
  uint64_t updates_ = 0;
};

}  // namespace ec::manager
