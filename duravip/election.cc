#include "duravip/election.h"

#include <algorithm>
#include <utility>

namespace ec::duravip {
namespace {

// One node's report with duplicates folded away; several reports under one name are merged so
// that the result cannot depend on which of them came first.
struct MergedReport {
  std::set<std::string> addresses;  // configured
  std::set<std::string> held;
};

// What the alive reports say about one address.
struct AddressFacts {
  std::map<std::string, std::set<std::string>> kinds;  // candidate -> kinds it configures
  std::set<std::string> binding_names;                 // over every "binding" entry
  std::set<std::string> preferences;                   // non-empty ones
};

// The rendezvous winner among `nodes` (sorted ascending, non-empty): the highest weight; on a
// tie the smaller name, which comes first, so only a strictly higher weight replaces it.
const std::string& RendezvousBest(const std::vector<std::string>& nodes, std::string_view address) {
  const std::string* best = &nodes.front();
  uint64_t best_weight = RendezvousWeight(*best, address);
  for (size_t i = 1; i < nodes.size(); ++i) {
    const uint64_t weight = RendezvousWeight(nodes[i], address);
    if (weight > best_weight) {
      best = &nodes[i];
      best_weight = weight;
    }
  }
  return *best;
}

bool Contains(const std::vector<std::string>& sorted, const std::string& value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

}  // namespace

uint64_t RendezvousWeight(std::string_view node, std::string_view address) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto mix = [&h](unsigned char b) {
    h ^= b;
    h *= 0x100000001b3ull;
  };
  for (char c : node) mix(static_cast<unsigned char>(c));
  mix(0);
  for (char c : address) mix(static_cast<unsigned char>(c));
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::vector<VipDecision> Elect(const ElectionInput& input) {
  std::map<std::string, MergedReport> nodes;
  std::map<std::string, AddressFacts> facts;  // every configured address, sorted
  for (const NodeReport& report : input.alive) {
    if (report.node.empty()) continue;  // "" means "nobody" in VipDecision::owner
    MergedReport& merged = nodes[report.node];
    merged.held.insert(report.held.begin(), report.held.end());
    for (const VipConfig& vip : report.configured) {
      merged.addresses.insert(vip.address);
      AddressFacts& f = facts[vip.address];
      f.kinds[report.node].insert(vip.kind);
      if (vip.kind == "binding") f.binding_names.insert(vip.name);
      if (!vip.preference.empty()) f.preferences.insert(vip.preference);
    }
  }
  size_t configuring_nodes = 0;
  for (const auto& [name, merged] : nodes) {
    if (!merged.addresses.empty()) ++configuring_nodes;
  }

  std::vector<VipDecision> decisions;
  decisions.reserve(facts.size());
  size_t budget = input.balance_budget;
  // `facts` is ordered by address, so rebalancing spends the budget in ascending address order.
  for (const auto& [address, f] : facts) {
    VipDecision d;
    d.address = address;
    for (const auto& [name, kinds] : f.kinds) d.candidates.push_back(name);
    for (const auto& [name, merged] : nodes) {
      if (merged.held.count(address) > 0) d.holders.push_back(name);
    }
    d.broken = f.binding_names.size() >= 2;
    d.conflict = f.preferences.size() >= 2;
    if (f.preferences.size() == 1) d.preference = *f.preferences.begin();
    // Candidates are a subset of the configuring nodes, so fewer means someone lacks it.
    d.unsafe = d.candidates.size() < configuring_nodes;
    for (const auto& [name, kinds] : f.kinds) {
      if (kinds != f.kinds.begin()->second) d.unsafe = true;
    }

    if (!d.broken && !d.candidates.empty()) {
      const std::string& winner = RendezvousBest(d.candidates, address);
      std::vector<std::string> live_holders;  // holders that are candidates
      for (const std::string& h : d.holders) {
        if (Contains(d.candidates, h)) live_holders.push_back(h);
      }
      const auto override_it = input.overrides.find(address);
      if (override_it != input.overrides.end() && Contains(d.candidates, override_it->second)) {
        d.owner = override_it->second;
      } else if (!d.preference.empty() && Contains(d.candidates, d.preference)) {
        d.owner = d.preference;
      } else if (!live_holders.empty()) {
        d.owner = RendezvousBest(live_holders, address);
        if (d.owner != winner && budget > 0) {
          --budget;
          d.owner = winner;
          d.rebalanced = true;
        }
      } else {
        d.owner = winner;  // failover or first assignment: free
      }
    }
    decisions.push_back(std::move(d));
  }
  return decisions;
}

}  // namespace ec::duravip
