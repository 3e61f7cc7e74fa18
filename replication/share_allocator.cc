#include "replication/share_allocator.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

namespace ec::replication {
namespace {

// The shares, one per node, in name order (the input may come in any order; a repeated name
// keeps its last share).
std::vector<const NodeShare*> ByName(const std::vector<NodeShare>& live) {
  std::vector<const NodeShare*> all;
  all.reserve(live.size());
  for (const NodeShare& n : live) all.push_back(&n);
  std::stable_sort(all.begin(), all.end(),
                   [](const NodeShare* a, const NodeShare* b) { return a->node < b->node; });
  std::vector<const NodeShare*> out;
  out.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    if (i + 1 == all.size() || all[i + 1]->node != all[i]->node) out.push_back(all[i]);
  }
  return out;
}

const NodeShare* FindShare(const std::vector<const NodeShare*>& by_name, const std::string& node) {
  auto it =
      std::lower_bound(by_name.begin(), by_name.end(), node,
                       [](const NodeShare* n, const std::string& name) { return n->node < name; });
  return it != by_name.end() && (*it)->node == node ? *it : nullptr;
}

// The last of our seqs `n` has applied. A node that follows another leader has applied none of
// ours: it may still apply any we sent once it follows us.
uint64_t AckedFromSelf(const NodeShare& n, const std::string& self) {
  return n.leader == self ? n.acked_seq : 0;
}

// Figures come from peers: a sum must not wrap around to a small number.
uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return b > std::numeric_limits<uint64_t>::max() - a ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

// Targets() for shares in name order, as a vector in the same order.
std::vector<uint64_t> FairTargets(uint64_t limit, const std::vector<const NodeShare*>& by_name) {
  std::vector<uint64_t> targets(by_name.size(), 0);
  std::vector<std::pair<uint64_t, size_t>> wanting;  // (demand capped at limit, index)
  for (size_t i = 0; i < by_name.size(); ++i) {
    const uint64_t demand = std::min(by_name[i]->demand, limit);
    if (demand > 0) wanting.emplace_back(demand, i);
  }
  // Water-filling: the smallest demands are met in full while they fit under an equal split of
  // what is left; everyone after them wants more than that level.
  std::sort(wanting.begin(), wanting.end());
  uint64_t left = limit;
  size_t met = 0;
  for (; met < wanting.size(); ++met) {
    const uint64_t level = left / (wanting.size() - met);
    if (wanting[met].first > level) break;
    targets[wanting[met].second] = wanting[met].first;
    left -= wanting[met].first;
  }
  if (met == wanting.size()) return targets;
  std::vector<size_t> rest;  // indices, so sorted they are in name order
  for (size_t i = met; i < wanting.size(); ++i) rest.push_back(wanting[i].second);
  std::sort(rest.begin(), rest.end());
  // Each wants at least level + 1, so the units the level leaves over (fewer than the nodes)
  // can go one each, in name order.
  const uint64_t level = left / rest.size();
  const uint64_t extra = left % rest.size();
  for (size_t i = 0; i < rest.size(); ++i) targets[rest[i]] = level + (i < extra ? 1 : 0);
  return targets;
}

}  // namespace

std::map<std::string, uint64_t> Targets(uint64_t limit, const std::vector<NodeShare>& live) {
  const std::vector<const NodeShare*> by_name = ByName(live);
  const std::vector<uint64_t> targets = FairTargets(limit, by_name);
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < by_name.size(); ++i) {
    out.emplace_hint(out.end(), by_name[i]->node, targets[i]);
  }
  return out;
}

uint64_t Claim(const NodeShare& n, const AllocatorState& state, const std::string& self) {
  uint64_t claim = std::max(n.usage, n.held);
  const uint64_t acked = AckedFromSelf(n, self);
  // The last grant sent may be sent again (the periodic repair) after the node acknowledged it
  // and then followed another leader for a while, so it counts whenever its seq is not applied.
  if (auto it = state.granted.find(n.node); it != state.granted.end() && it->second.seq > acked) {
    claim = std::max(claim, it->second.units);
  }
  if (auto it = state.unacked.find(n.node); it != state.unacked.end()) {
    for (const Grant& g : it->second) {
      if (g.seq > acked) {  // units fall along the list: the first one not applied is the largest
        claim = std::max(claim, g.units);
        break;
      }
    }
  }
  return claim;
}

std::vector<Grant> Allocate(const std::string& self, uint64_t limit,
                            const std::vector<NodeShare>& live, AllocatorState* state) {
  const std::vector<const NodeShare*> by_name = ByName(live);
  const auto gone = [&](const auto& kv) { return FindShare(by_name, kv.first) == nullptr; };
  std::erase_if(state->granted, gone);
  std::erase_if(state->unacked, gone);
  for (auto it = state->unacked.begin(); it != state->unacked.end();) {
    const uint64_t acked = AckedFromSelf(*FindShare(by_name, it->first), self);
    std::erase_if(it->second, [acked](const Grant& g) { return g.seq <= acked; });
    it = it->second.empty() ? state->unacked.erase(it) : std::next(it);
  }

  const std::vector<uint64_t> targets = FairTargets(limit, by_name);
  std::vector<uint64_t> claims(by_name.size());
  bool all_follow = true;
  for (size_t i = 0; i < by_name.size(); ++i) {
    claims[i] = Claim(*by_name[i], *state, self);
    if (by_name[i]->leader != self) all_follow = false;
  }

  std::vector<Grant> sent;
  const auto send = [&](const NodeShare& n, uint64_t units) {
    Grant& g = state->granted[n.node];
    // Past anything the node says it applied from us: a leader that forgot a node (or
    // restarted) must not reuse seqs the node would ignore.
    g = {.node = n.node, .units = units, .seq = std::max(g.seq, AckedFromSelf(n, self)) + 1};
    std::vector<Grant>& pending = state->unacked[n.node];
    while (!pending.empty() && pending.back().units <= units) pending.pop_back();
    pending.push_back(g);
    sent.push_back(g);
  };
  // What the node holds as far as we know: our last grant, else the grant it reports.
  const auto base = [&](const NodeShare& n) {
    auto it = state->granted.find(n.node);
    return it != state->granted.end() ? it->second.units : n.held;
  };

  // Decreases at once: a grant below what the node may hold never raises its claim.
  for (size_t i = 0; i < by_name.size(); ++i) {
    if (targets[i] < base(*by_name[i])) send(*by_name[i], targets[i]);
  }
  if (!all_follow) return sent;
  // Increases in name order, each out of what the others' claims (this round's grants
  // included) leave of the limit.
  for (size_t i = 0; i < by_name.size(); ++i) {
    const uint64_t current = base(*by_name[i]);
    if (targets[i] <= current) continue;
    uint64_t others = 0;
    for (size_t j = 0; j < claims.size(); ++j) {
      if (j != i) others = SaturatingAdd(others, claims[j]);
    }
    const uint64_t units = std::min(targets[i], others < limit ? limit - others : 0);
    if (units <= current) continue;
    send(*by_name[i], units);
    claims[i] = Claim(*by_name[i], *state, self);
  }
  return sent;
}

std::optional<std::string> LeaderOf(const std::vector<std::string>& alive,
                                    const std::vector<std::string>& members) {
  std::set<std::string> configured(members.begin(), members.end());
  configured.erase("");
  // Alive members: a name that is not a member neither votes nor leads.
  std::set<std::string> voters;
  for (const std::string& name : alive) {
    if (configured.contains(name)) voters.insert(name);
  }
  if (voters.empty() || 2 * voters.size() <= configured.size()) return std::nullopt;
  return *voters.begin();
}

uint64_t StaticShare(uint64_t limit, size_t members) { return members == 0 ? 0 : limit / members; }

}  // namespace ec::replication
