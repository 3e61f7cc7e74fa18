// The console commands of the cluster-wide limits: `cluster shared list`, `cluster shared show
// <object> [from <node>]`, `cluster shared stats` (Momentum's replicated-object views, over the
// figures SharedReplication keeps).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

#include "mta/cluster/shared_replication.h"

namespace ec::mta::cluster {
namespace {

// `cluster shared list` names at most this many objects per scope (`show` has them all).
constexpr size_t kListedKeys = 50;

bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

std::string PerSecond(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f/s", rate);
  return buf;
}

}  // namespace

void SharedReplication::RegisterCommands(control::CommandRegistry* commands) {
  (void)commands->RegisterSync(
      "cluster shared list", "the Replicate scopes: name, type, objects, max_delay",
      [this](const control::Request&) -> Result<std::string> { return List(); });
  (void)commands->RegisterSync(
      "cluster shared show",
      "<object> [from <node>]: a Replicate scope's (or one key's) limit, usage and grants",
      [this](const control::Request& r) -> Result<std::string> { return Show(r.arg_words); });
  (void)commands->RegisterSync(
      "cluster shared stats", "reports and grants per second, replication lag, leader",
      [this](const control::Request&) -> Result<std::string> { return Stats(); });
}

std::string SharedReplication::List() const {
  const std::vector<std::string> keys = table_.Keys();
  std::ostringstream out;
  // Each scope's line, then its objects (the first kListedKeys) with their cluster figures.
  const auto objects = [&](std::string_view type) {
    std::vector<const std::string*> of_type;
    for (const std::string& k : keys) {
      if (SameText(replication::ObjectType(k), type)) of_type.push_back(&k);
    }
    out << " keys " << of_type.size() << "\n";
    for (size_t i = 0; i < of_type.size() && i < kListedKeys; ++i) {
      const std::string& key = *of_type[i];
      uint64_t limit = 0;
      for (const std::string& node : table_.Nodes()) {
        if (const replication::ObjectFigures* f = table_.Find(node, key)) limit = f->limit;
      }
      out << "  " << key << " limit " << limit << " cluster usage " << table_.TotalUsage(key)
          << "\n";
    }
    if (of_type.size() > kListedKeys) {
      out << "  ... " << of_type.size() - kListedKeys << " more\n";
    }
  };
  if (options_.specs.empty()) out << "No Replicate scopes configured\n";
  for (const ReplicateSpec& s : options_.specs) {
    out << "Replicate \"" << s.name << "\" type " << s.type << " max_delay "
        << Seconds(s.max_delay);
    objects(s.type);
  }
  // Objects of a type no Replicate names (a peer's config differs from ours).
  std::set<std::string> unnamed;
  for (const std::string& k : keys) {
    const std::string_view type = replication::ObjectType(k);
    const bool named = std::any_of(options_.specs.begin(), options_.specs.end(),
                                   [type](const ReplicateSpec& s) { return SameText(s.type, type); });
    if (!named) unnamed.insert(std::string(type));
  }
  for (const std::string& type : unnamed) {
    out << "(no Replicate) type " << type << " max_delay "
        << Seconds(std::chrono::milliseconds(1000));
    objects(type);
  }
  return out.str();
}

Result<std::string> SharedReplication::Show(const std::vector<std::string>& args) const {
  if (args.empty() || args.size() == 2 || args.size() > 3 ||
      (args.size() == 3 && !SameText(args[1], "from"))) {
    return InvalidArgument("usage: cluster shared show <object> [from <node>]");
  }
  const std::string& object = args[0];
  const std::string from = args.size() == 3 ? args[2] : "";
  // A Replicate name or type: every key of that type; else one key.
  std::string type;
  for (const ReplicateSpec& s : options_.specs) {
    if (SameText(s.name, object) || SameText(s.type, object)) type = s.type;
  }
  std::vector<std::string> keys;
  for (const std::string& k : table_.Keys()) {
    if (type.empty() ? (k == object || SameText(replication::ObjectType(k), object))
                     : SameText(replication::ObjectType(k), type)) {
      keys.push_back(k);
    }
  }
  if (keys.empty() && type.empty()) {
    return NotFound("no Replicate scope, type or object named " + object);
  }
  std::ostringstream out;
  size_t shown = 0;
  for (const std::string& key : keys) {
    std::vector<std::pair<std::string, const replication::ObjectFigures*>> rows;
    for (const std::string& node : table_.Nodes()) {
      if (!from.empty() && node != from) continue;
      if (const replication::ObjectFigures* f = table_.Find(node, key)) rows.push_back({node, f});
    }
    if (rows.empty()) continue;
    ++shown;
    const replication::ObjectFigures& first = *rows.front().second;
    out << key << " limit " << first.limit;
    if (first.window_ms > 0) out << " per " << Seconds(std::chrono::milliseconds(first.window_ms));
    out << " cluster usage " << table_.TotalUsage(key) << "\n";
    for (const auto& [node, f] : rows) {
      const std::string leader = table_.LeaderOf(node);
      out << "  " << node << (node == self_ ? " *" : "") << " usage " << f->usage << " demand "
          << f->demand << " grant " << f->held << " leader " << (leader.empty() ? "-" : leader)
          << "\n";
    }
  }
  if (shown == 0) {
    out << "No objects" << (from.empty() ? "" : " from " + from) << " for " << object << "\n";
  }
  return out.str();
}

std::string SharedReplication::Stats() {
  std::ostringstream out;
  const std::optional<std::string>& leader = limits_.leader();
  out << "Leader: "
      << (leader ? *leader + (*leader == self_ ? " (this node)" : "") : "none (no quorum)")
      << "\n";
  out << "Members:";
  for (const std::string& m : members_) out << " " << m << (alive_.contains(m) ? "" : "(down)");
  out << "\n";
  out << "Reports: sent " << reports_sent_.total << " (" << PerSecond(Rate(reports_sent_))
      << "), received " << reports_received_.total << " ("
      << PerSecond(Rate(reports_received_)) << ")\n";
  out << "Grants: sent " << grants_sent_.total << " (" << PerSecond(Rate(grants_sent_)) << ", "
      << grant_entries_sent_ << " grants), received " << grants_received_.total << " ("
      << PerSecond(Rate(grants_received_)) << ")\n";
  if (lag_ms_.empty()) {
    out << "Replication lag: no samples\n";
  } else {
    std::vector<uint64_t> sorted(lag_ms_.begin(), lag_ms_.end());
    std::sort(sorted.begin(), sorted.end());
    const auto at = [&sorted](double q) {
      return sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
    };
    out << "Replication lag: p50 " << at(0.50) << " ms, p99 " << at(0.99) << " ms (last "
        << sorted.size() << ")\n";
  }
  out << "Objects: " << limits_.object_count() << " here, " << table_.Keys().size()
      << " in the cluster\n";
  return out.str();
}

}  // namespace ec::mta::cluster
