#include "manager/health_view.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "manager/prometheus_text.h"

namespace ec::manager {
namespace {

int64_t AgeMs(msgc::Clock::time_point then, msgc::Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
}

std::string Metric(const std::string& name, const std::string& node, uint64_t value) {
  return name + "{node=\"" + node + "\"} " + std::to_string(value) + "\n";
}

using prometheus::Header;
using prometheus::LabelValue;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out.empty() ? "-" : out;
}

// Columns as wide as their widest cell, two spaces apart; the last one is not padded.
std::string Columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace

const char* DuravipStateName(DuravipState state) {
  switch (state) {
    case DuravipState::kOwned:
      return "owned";
    case DuravipState::kHandover:
      return "handover";
    case DuravipState::kConflict:
      return "CONFLICT";
    case DuravipState::kUnheld:
      return "unheld";
  }
  return "?";
}

size_t DuravipTable::conflicts() const {
  return std::count_if(addresses.begin(), addresses.end(),
                       [](const DuravipAddress& a) { return a.conflict(); });
}

DuravipTable BuildDuravipTable(const std::vector<DuravipReport>& reports) {
  struct Claim {
    msgc::Clock::time_point since, latest;
  };
  struct Claims {
    std::map<std::string, Claim> holders;  // by member
    std::set<std::string> not_counted;
  };
  std::map<std::string, Claims> by_address;
  DuravipTable table;
  for (const DuravipReport& report : reports) {
    const msgc::HealthRecord& r = *report.record;
    // A record listing an address twice is still one holder, not a conflict with itself.
    const std::set<std::string> held(r.duravips.begin(), r.duravips.end());
    for (const std::string& address : held) {
      Claims& c = by_address[address];
      if (!report.counts) {
        c.not_counted.insert(r.member);
        continue;
      }
      Claim claim{report.received, report.received};
      if (report.since) {
        auto it = report.since->find(address);
        if (it != report.since->end()) claim.since = std::min(it->second, report.received);
      }
      c.holders[r.member] = claim;
    }
    table.nodes.push_back({r.member, report.counts, held.size(), r.duravip_takeovers});
  }
  for (const auto& [address, c] : by_address) {
    DuravipAddress a{address, {}, {c.not_counted.begin(), c.not_counted.end()}};
    for (const auto& [member, claim] : c.holders) a.holders.push_back(member);
    if (c.holders.empty()) {
      a.state = DuravipState::kUnheld;
    } else if (c.holders.size() == 1) {
      a.state = DuravipState::kOwned;
    } else {
      a.state = DuravipState::kHandover;
      for (auto i = c.holders.begin(); i != c.holders.end(); ++i) {
        for (auto j = std::next(i); j != c.holders.end(); ++j) {
          const Claim &x = i->second, &y = j->second;
          if (x.since <= y.latest && y.since <= x.latest) a.state = DuravipState::kConflict;
        }
      }
    }
    table.addresses.push_back(std::move(a));
  }
  std::sort(table.nodes.begin(), table.nodes.end(),
            [](const DuravipNode& a, const DuravipNode& b) { return a.member < b.member; });
  return table;
}

std::string FormatDuravipTable(const DuravipTable& table) {
  std::map<DuravipState, size_t> count;
  for (const DuravipAddress& a : table.addresses) ++count[a.state];
  const size_t conflicts = count[DuravipState::kConflict];
  std::string out;
  // First, so that it cannot scroll by unseen.
  if (conflicts) {
    out += "!! CONFLICT: " + std::to_string(conflicts) +
           " address(es) held by two or more live members at once (split brain)\n";
  }
  out += "DuraVIP: " + std::to_string(table.addresses.size()) + " addresses, " +
         std::to_string(count[DuravipState::kOwned]) + " owned, " + std::to_string(conflicts) +
         " CONFLICT, " + std::to_string(count[DuravipState::kHandover]) + " handover, " +
         std::to_string(count[DuravipState::kUnheld]) + " unheld; " +
         std::to_string(table.nodes.size()) + " members reporting\n";
  if (!table.addresses.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"ADDRESS", "STATE", "HOLDERS", "NOT COUNTED (not alive or record stale)"}};
    for (const DuravipAddress& a : table.addresses) {
      rows.push_back({a.address, DuravipStateName(a.state), Join(a.holders), Join(a.not_counted)});
    }
    out += "\n" + Columns(rows);
  }
  if (!table.nodes.empty()) {
    std::vector<std::vector<std::string>> rows = {{"NODE", "COUNTED", "HELD", "TAKEOVERS"}};
    for (const DuravipNode& n : table.nodes) {
      rows.push_back({n.member, n.counted ? "yes" : "no", std::to_string(n.held),
                      std::to_string(n.takeovers)});
    }
    out += "\n" + Columns(rows);
  }
  return out;
}

Status HealthView::Update(const std::string& sender, msgc::HealthRecord record,
                          msgc::Clock::time_point now) {
  if (record.member != sender) {
    return InvalidArgument("health record of `" + record.member + "` sent by `" + sender + "`");
  }
  Entry& e = records_[sender];
  // A run of claims survives only consecutive records of one incarnation: a restarted node holds
  // nothing at first, and across a gap the address may have moved away and back unseen.
  const bool continued =
      e.record.incarnation == record.incarnation && now - e.received <= 3 * report_interval_;
  ClaimedSince since;
  for (const std::string& address : record.duravips) {
    auto it = e.duravip_since.find(address);
    since[address] = continued && it != e.duravip_since.end() ? it->second : now;
  }
  e.duravip_since = std::move(since);
  e.record = std::move(record);
  e.received = now;
  ++updates_;
  return Status::Ok();
}

const msgc::HealthRecord* HealthView::Find(const std::string& member) const {
  auto it = records_.find(member);
  return it == records_.end() ? nullptr : &it->second.record;
}

bool HealthView::Healthy(const msgc::Bus& bus, const std::string& member, const Entry* entry,
                         msgc::Clock::time_point now) const {
  return bus.IsAlive(member) && entry && now - entry->received <= 3 * report_interval_;
}

std::string HealthView::Json(const msgc::Bus& bus, const msgc::HealthRecord& self,
                             msgc::Clock::time_point now) const {
  const msgc::View& view = bus.view();
  std::string out = "{\"manager\":" + msgc::JsonQuote(bus.name());
  out += ",\"view_id\":" + std::to_string(view.id);
  out += ",\"view_stable_ms\":" + std::to_string(AgeMs(view.stable_since, now));
  out += ",\"mature\":" + std::string(bus.Mature() ? "true" : "false");
  out += ",\"members_known\":" + std::to_string(view.members.size());
  out += ",\"members_alive\":" + std::to_string(view.AliveMembers().size());
  out += ",\"self\":" + msgc::HealthRecordToJson(self);
  out += ",\"members\":[";
  bool first = true;
  for (const msgc::Member& m : view.members) {
    if (m.name == bus.name()) continue;
    auto it = records_.find(m.name);
    const Entry* entry = it == records_.end() ? nullptr : &it->second;
    if (!first) out += ',';
    first = false;
    out += "{\"member\":" + msgc::JsonQuote(m.name);
    out += ",\"address\":" + msgc::JsonQuote(m.address);
    out += ",\"bus_state\":" + msgc::JsonQuote(msgc::PeerStateName(m.state));
    out += ",\"healthy\":" + std::string(Healthy(bus, m.name, entry, now) ? "true" : "false");
    if (entry) {
      out += ",\"report_age_ms\":" + std::to_string(AgeMs(entry->received, now));
      out += ",\"report\":" + msgc::HealthRecordToJson(entry->record);
    } else {
      out += ",\"report_age_ms\":null,\"report\":null";
    }
    out += '}';
  }
  out += ']';
  const DuravipTable duravip = Duravip(bus, now);
  out += ",\"duravip\":{";
  for (size_t i = 0; i < duravip.addresses.size(); ++i) {
    const DuravipAddress& a = duravip.addresses[i];
    out += (i ? "," : "") + msgc::JsonQuote(a.address) + ":[";
    for (size_t j = 0; j < a.holders.size(); ++j) {
      out += (j ? "," : "") + msgc::JsonQuote(a.holders[j]);
    }
    out += ']';
  }
  out += "},\"duravip_conflicts\":" + std::to_string(duravip.conflicts());
  out += "}\n";
  return out;
}

std::string HealthView::Prometheus(const msgc::Bus& bus, msgc::Clock::time_point now) const {
  const msgc::View& view = bus.view();
  std::string out;
  out += Header("ec_cluster_members", "gauge", "Configured bus members, eccmgr included.");
  out += "ec_cluster_members " + std::to_string(view.members.size()) + "\n";
  out += Header("ec_cluster_members_alive", "gauge",
                "Bus members eccmgr sees alive, itself included.");
  out += "ec_cluster_members_alive " + std::to_string(view.AliveMembers().size()) + "\n";
  out += Header("ec_cluster_view_id", "gauge", "Membership view id (bumps on every change).");
  out += "ec_cluster_view_id " + std::to_string(view.id) + "\n";
  out +=
      Header("ec_cluster_view_mature", "gauge", "1 when the view is older than view_mature_time.");
  out += "ec_cluster_view_mature " + std::string(bus.Mature() ? "1" : "0") + "\n";

  struct Series {
    const char* name;
    const char* type;
    const char* help;
    uint64_t msgc::HealthRecord::*field;
  };
  const Series series[] = {
      {"ec_node_messages_received_total", "counter", "Messages the node accepted.",
       &msgc::HealthRecord::received},
      {"ec_node_messages_delivered_total", "counter", "Messages the node delivered.",
       &msgc::HealthRecord::delivered},
      {"ec_node_messages_failed_total", "counter", "Messages that failed permanently.",
       &msgc::HealthRecord::failed},
      {"ec_node_queue_size", "gauge", "Messages in the node's queue.",
       &msgc::HealthRecord::queue_size},
      {"ec_node_bus_peers", "gauge", "Bus peers the node is connected to.",
       &msgc::HealthRecord::peers_connected},
      {"ec_node_members_alive", "gauge", "Members the node sees alive, itself included.",
       &msgc::HealthRecord::members_alive},
      {"ec_node_duravip_takeovers_total", "counter",
       "DuraVIP addresses the node took over since it started.",
       &msgc::HealthRecord::duravip_takeovers},
  };
  out += Header("ec_node_up", "gauge", "1 when the member is alive on the bus and reporting.");
  for (const msgc::Member& m : view.members) {
    if (m.name == bus.name()) continue;
    auto it = records_.find(m.name);
    out += Metric("ec_node_up", m.name,
                  Healthy(bus, m.name, it == records_.end() ? nullptr : &it->second, now) ? 1 : 0);
  }
  for (const Series& s : series) {
    out += Header(s.name, s.type, s.help);
    for (const auto& [name, entry] : records_) out += Metric(s.name, name, entry.record.*s.field);
  }
  out += Header("ec_node_report_age_seconds", "gauge", "Seconds since the member's last record.");
  for (const auto& [name, entry] : records_) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", AgeMs(entry.received, now) / 1000.0);
    out += "ec_node_report_age_seconds{node=\"" + name + "\"} " + buf + "\n";
  }
  const DuravipTable duravip = Duravip(bus, now);
  out += Header("ec_duravip_owner", "gauge",
                "1 for each DuraVIP address a member alive and reporting holds.");
  for (const DuravipAddress& a : duravip.addresses) {
    for (const std::string& node : a.holders) {
      out +=
          "ec_duravip_owner{address=\"" + LabelValue(a.address) + "\",node=\"" + node + "\"} 1\n";
    }
  }
  out += Header(
      "ec_duravip_holders", "gauge",
      "Members alive and reporting that hold the address; above 1: handover or split brain.");
  for (const DuravipAddress& a : duravip.addresses) {
    out += "ec_duravip_holders{address=\"" + LabelValue(a.address) + "\"} " +
           std::to_string(a.holders.size()) + "\n";
  }
  out += Header("ec_duravip_conflict", "gauge",
                "1 while members' claims on the address overlap in time (not a handover).");
  for (const DuravipAddress& a : duravip.addresses) {
    out += "ec_duravip_conflict{address=\"" + LabelValue(a.address) + "\"} " +
           (a.conflict() ? "1" : "0") + "\n";
  }
  return out;
}

std::string HealthView::Text(const msgc::Bus& bus, msgc::Clock::time_point now) const {
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line, "%-16s %-10s %-8s %-10s %-7s %-10s %-10s %-8s %-8s %-6s %s\n",
                "MEMBER", "BUS", "HEALTHY", "STATE", "ALIVE", "RECEIVED", "DELIVERED", "FAILED",
                "QUEUE", "PEERS", "REPORTED");
  out += line;
  for (const msgc::Member& m : bus.view().members) {
    if (m.name == bus.name()) continue;
    auto it = records_.find(m.name);
    const Entry* e = it == records_.end() ? nullptr : &it->second;
    const bool healthy = Healthy(bus, m.name, e, now);
    if (!e) {
      std::snprintf(line, sizeof line, "%-16s %-10s %-8s %s\n", m.name.c_str(),
                    std::string(msgc::PeerStateName(m.state)).c_str(), healthy ? "yes" : "no",
                    "(no report yet)");
    } else {
      const msgc::HealthRecord& r = e->record;
      const std::string age = std::to_string(AgeMs(e->received, now) / 1000) + " s ago";
      std::snprintf(
          line, sizeof line,
          "%-16s %-10s %-8s %-10s %-7s %-10llu %-10llu %-8llu %-8llu %-6llu %s\n", m.name.c_str(),
          std::string(msgc::PeerStateName(m.state)).c_str(), healthy ? "yes" : "no",
          r.state.c_str(),
          (std::to_string(r.members_alive) + "/" + std::to_string(r.members_known)).c_str(),
          static_cast<unsigned long long>(r.received), static_cast<unsigned long long>(r.delivered),
          static_cast<unsigned long long>(r.failed), static_cast<unsigned long long>(r.queue_size),
          static_cast<unsigned long long>(r.peers_connected), age.c_str());
    }
    out += line;
  }
  return out;
}

DuravipTable HealthView::Duravip(const msgc::Bus& bus, msgc::Clock::time_point now) const {
  std::vector<DuravipReport> reports;
  for (const auto& [name, entry] : records_) {
    reports.push_back(
        {&entry.record, Healthy(bus, name, &entry, now), entry.received, &entry.duravip_since});
  }
  return BuildDuravipTable(reports);
}

}  // namespace ec::manager
