// Text and records made from a Bus's state, shared by every member: the membership table that
// `show cluster membership` (eccmgr) and `cluster membership` (ecmta) print, the `cluster info`
// lines, and the bus half of a HealthRecord. Loop thread of the Bus.
#pragma once

#include <string>

#include "msgc/bus.h"
#include "msgc/health_record.h"

namespace ec::msgc {

// "Membership: view 7, stable for 12.3 s (mature)" then one line per member: name, address,
// state, incarnation, time in state, last heard, link, groups.
std::string FormatMembership(const Bus& bus);
// Node name, endpoint, incarnation, groups joined, view summary, bus counters.
std::string FormatBusInfo(const Bus& bus);
// The bus fields of a health record (member, endpoint, view, peers, unhealthy, state, time);
// the caller adds its role and counters.
HealthRecord BusHealth(const Bus& bus, const std::string& role);

// A LogFn that writes the bus's lines ("msgc: event=... k=v") to the process log
// (log::Logger::Global()) as `msg="msgc" event=... k=v`.
LogFn ProcessLogFn();
// One process-log line for a member coming alive or dying (group changes are not logged).
void LogMembershipEvent(const MembershipEvent& event, const View& view);

}  // namespace ec::msgc
