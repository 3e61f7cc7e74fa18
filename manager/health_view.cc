#include "manager/health_view.h"

#include <cstdio>

namespace ec::manager {
namespace {

int64_t AgeMs(msgc::Clock::time_point then, msgc::Clock::time_point now) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
}

std::string Metric(const std::string& name, const std::string& node, uint64_t value) {
  return name + "{node=\"" + node + "\"} " + std::to_string(value) + "\n";
}

std::string Header(const std::string& name, const char* type, const char* help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Status HealthView::Update(const std::string& sender, msgc::HealthRecord record,
                          msgc::Clock::time_point now) {
  if (record.member != sender) {
    return InvalidArgument("health record of `" + record.member + "` sent by `" + sender + "`");
  }
  Entry& e = records_[sender];
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
  out += "]}\n";
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

}  // namespace ec::manager
