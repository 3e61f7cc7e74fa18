#include "replication/shared_table.h"

#include <limits>
#include <set>

namespace ec::replication {

void SharedTable::Apply(const std::string& node, const ReportMessage& report) {
  NodeEntry& entry = nodes_[node];
  entry.leader = report.leader;
  if (report.full) entry.objects.clear();  // a snapshot: what it no longer lists is at 0
  for (const ObjectFigures& o : report.objects) entry.objects[o.key] = o;
}

void SharedTable::Forget(const std::string& node) { nodes_.erase(node); }

std::vector<NodeShare> SharedTable::Shares(const std::string& key) const {
  std::vector<NodeShare> out;
  for (const auto& [node, entry] : nodes_) {
    auto it = entry.objects.find(key);
    if (it == entry.objects.end()) continue;
    const ObjectFigures& o = it->second;
    out.push_back({.node = node,
                   .leader = entry.leader,
                   .usage = o.usage,
                   .demand = o.demand,
                   .held = o.held,
                   .acked_seq = o.acked_seq});
  }
  return out;
}

const ObjectFigures* SharedTable::Find(const std::string& node, const std::string& key) const {
  auto n = nodes_.find(node);
  if (n == nodes_.end()) return nullptr;
  auto o = n->second.objects.find(key);
  return o == n->second.objects.end() ? nullptr : &o->second;
}

std::string SharedTable::LeaderOf(const std::string& node) const {
  auto n = nodes_.find(node);
  return n == nodes_.end() ? std::string() : n->second.leader;
}

std::vector<std::string> SharedTable::Keys(const std::string& type) const {
  std::set<std::string> keys;
  for (const auto& [node, entry] : nodes_) {
    for (const auto& [key, figures] : entry.objects) {
      if (type.empty() || ObjectType(key) == type) keys.insert(key);
    }
  }
  return {keys.begin(), keys.end()};
}

uint64_t SharedTable::TotalUsage(const std::string& key) const {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t total = 0;
  for (const auto& [node, entry] : nodes_) {
    auto it = entry.objects.find(key);
    if (it == entry.objects.end()) continue;
    // Peers' figures: saturate rather than wrap.
    total = it->second.usage > kMax - total ? kMax : total + it->second.usage;
  }
  return total;
}

std::vector<std::string> SharedTable::Nodes() const {
  std::vector<std::string> out;
  for (const auto& [node, entry] : nodes_) out.push_back(node);
  return out;
}

}  // namespace ec::replication
