#include "msgc/bus_report.h"

#include <cstdio>
#include <ctime>

#include "common/log/logger.h"

namespace ec::msgc {
namespace {

std::string Seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

std::string Join(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "-" : out;
}

std::string ViewLine(const Bus& bus, Clock::time_point now) {
  const View& view = bus.view();
  return "view " + std::to_string(view.id) + ", stable for " + Seconds(view.StableFor(now)) +
         (bus.Mature() ? " (mature)" : " (not mature)");
}

}  // namespace

std::string FormatMembership(const Bus& bus) {
  const auto now = Clock::now();
  const View& view = bus.view();
  std::string out = "Membership: " + ViewLine(bus, now) + ", " +
                    std::to_string(view.AliveMembers().size()) + " of " +
                    std::to_string(view.members.size()) + " members alive\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-16s %-15s %-10s %-20s %-10s %-10s %-5s %s\n", "MEMBER",
                "ADDRESS", "STATE", "INCARNATION", "SINCE", "HEARD", "LINK", "GROUPS");
  out += line;
  for (const Member& m : view.members) {
    const bool self = m.name == bus.name();
    const std::string state = self ? "SELF" : std::string(PeerStateName(m.state));
    const std::string incarnation = std::to_string(self ? bus.incarnation() : m.incarnation);
    const std::string heard =
        self ? "-" : (m.incarnation == 0 ? "never" : Seconds(now - m.last_heard) + " ago");
    const std::string link = self ? "-" : (bus.LinkUp(m.name) ? "up" : "down");
    const std::string groups = Join(self ? bus.groups() : m.groups);
    std::snprintf(line, sizeof line, "%-16s %-15s %-10s %-20s %-10s %-10s %-5s %s\n",
                  m.name.c_str(), m.address.c_str(), state.c_str(), incarnation.c_str(),
                  Seconds(now - m.state_since).c_str(), heard.c_str(), link.c_str(),
                  groups.c_str());
    out += line;
  }
  return out;
}

std::string FormatBusInfo(const Bus& bus) {
  const auto now = Clock::now();
  const BusStats& s = bus.stats();
  std::string out;
  out += "Node: " + bus.name() + "\n";
  out += "Bus endpoint: " + bus.endpoint() + "\n";
  out += "Incarnation: " + std::to_string(bus.incarnation()) + "\n";
  out += "Groups: " + Join(bus.groups()) + "\n";
  out += "View: " + ViewLine(bus, now) + "\n";
  out += "Members alive: " + std::to_string(bus.view().AliveMembers().size()) + " of " +
         std::to_string(bus.view().members.size()) + "\n";
  out += "CURVE: " + std::string(bus.options().curve.enabled() ? "on" : "off") +
         ", refused peers " + std::to_string(bus.refused_peers()) + "\n";
  out += "Frames: sent " + std::to_string(s.frames_sent) + ", received " +
         std::to_string(s.frames_received) + ", send dropped " + std::to_string(s.send_dropped) +
         ", malformed " + std::to_string(s.malformed_dropped) + ", foreign " +
         std::to_string(s.foreign_dropped) + ", sequence gaps " + std::to_string(s.sequence_gaps) +
         "\n";
  return out;
}

HealthRecord BusHealth(const Bus& bus, const std::string& role) {
  const auto now = Clock::now();
  const View& view = bus.view();
  HealthRecord r;
  r.member = bus.name();
  r.role = role;
  r.endpoint = bus.endpoint();
  r.incarnation = bus.incarnation();
  r.view_id = view.id;
  r.view_stable_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(view.StableFor(now)).count());
  r.members_known = view.members.size();
  bool any_heard = false;
  for (const Member& m : view.members) {
    if (m.name == bus.name()) continue;
    if (m.incarnation != 0) any_heard = true;
    if (m.state == PeerState::kAlive) {
      if (bus.LinkUp(m.name)) ++r.peers_connected;
    } else {
      r.unhealthy.push_back(m.name);
    }
  }
  r.members_alive = r.members_known - r.unhealthy.size();
  if (!any_heard && view.members.size() > 1) {
    r.state = "CONNECTING";
  } else {
    r.state = bus.Mature() ? "STABLE" : "UNSTABLE";
  }
  r.time = static_cast<uint64_t>(std::time(nullptr));
  return r;
}

LogFn ProcessLogFn() {
  return [](std::string_view line) {
    if (line.substr(0, 6) == "msgc: ") line.remove_prefix(6);
    log::Logger::Global().Emit(log::Level::kInfo, "msg=\"msgc\" " + std::string(line));
  };
}

void LogMembershipEvent(const MembershipEvent& event, const View& view) {
  using Kind = MembershipEvent::Kind;
  if (event.kind == Kind::kGroupJoined || event.kind == Kind::kGroupLeft) return;
  EC_LOG(kInfo, "cluster member")
      .Field("event", EventKindName(event.kind))
      .Field("peer", event.peer)
      .Field("incarnation", event.incarnation)
      .Field("reason", event.reason)
      .Field("view", view.id)
      .Field("alive", view.AliveMembers().size());
}

}  // namespace ec::msgc
