// DuraVIP election: which live node should hold each virtual IP address. A pure function of what
// the live members report (the addresses each configures, with kind, binding name and
// preference, and the addresses each holds now), one-off `cluster duravip move` overrides, and
// how many rebalancing moves this round may make. Every member computes it alike from the same
// reports, so no message is needed to agree on an owner; safety against two holders does not
// rest on it alone (see docs/duravip.md: quorum, the keeper's lease, release before acquire).
// No I/O, no clock; value types; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ec::duravip {

// One address as one node configures it.
struct VipConfig {
  std::string address;     // canonical IP text ("198.18.0.100", "2001:db8::1")
  std::string kind;        // "listen" or "binding" (an address may be both on one node)
  std::string name;        // the binding's name for kind "binding"; "" for "listen"
  std::string preference;  // Duravip_Preference: a node name, or ""

  bool operator==(const VipConfig&) const = default;
};

// What one live member says about itself (self included).
struct NodeReport {
  std::string node;
  std::vector<VipConfig> configured;  // may list one address twice (listen and binding)
  std::set<std::string> held;         // addresses plumbed on this node now
};

struct ElectionInput {
  // Every member alive in the deciding node's view that has reported, self included. Order
  // does not matter.
  std::vector<NodeReport> alive;
  // address -> node, from `cluster duravip move`; ignored when that node does not configure
  // the address or is not alive.
  std::map<std::string, std::string> overrides;
  // How many addresses may move away from a live holder this round to rebalance (rendezvous);
  // moves to the preferred node or to an override are not counted and always happen.
  size_t balance_budget = 0;
};

struct VipDecision {
  std::string address;
  std::string owner;                    // the node that should hold it; "" when nobody may
  std::vector<std::string> candidates;  // alive nodes that configure it, sorted
  std::vector<std::string> holders;     // alive nodes that hold it now, sorted
  std::string preference;               // the agreed preference; "" if none or in conflict
  bool conflict = false;    // candidates name different preferences: plain election instead
  bool unsafe = false;      // not configured alike on every reporting node (informational)
  bool broken = false;      // one address under different binding names: not managed at all
  bool rebalanced = false;  // owner replaces a live holder to rebalance (spent budget)

  bool operator==(const VipDecision&) const = default;
};

// One decision per address configured by any live member, sorted by address text (byte order).
// Per address (docs/duravip-election.md):
//  - candidates: alive nodes that configure it; holders: alive nodes that hold it.
//  - broken: "binding" entries for it, over all alive reports, carry two or more distinct
//    binding names (Momentum does not manage one IP under two bindings): owner "". A listen and
//    a binding on one address are fine.
//  - preference: the distinct non-empty preferences in the candidates' entries; two or more is
//    a conflict (plain election). One that names a non-candidate (dead, or not configuring the
//    address) is shown but not usable now.
//  - unsafe: some node that configures any VIP does not configure this one, or the candidates
//    configure it with different sets of kinds. Informational only.
//  - owner, first that applies: broken -> ""; an override naming a candidate; the usable
//    preference; a live holder that is a candidate (the rendezvous-best of them if several),
//    unless rebalanced; otherwise the rendezvous winner among the candidates (highest
//    RendezvousWeight, ties to the smaller name).
//  - rebalance: addresses whose kept holder is not the rendezvous winner move to the winner, in
//    ascending address order, while balance_budget lasts (rebalanced=true). Override,
//    preference and failover (no live candidate holder) moves never spend budget.
// Deterministic whatever the order of `alive`, of each `configured` list, or duplicates in it;
// reports with the same node name are merged, reports with an empty node name are ignored.
std::vector<VipDecision> Elect(const ElectionInput& input);

// Rendezvous (highest random weight) score of `node` for `address`, the same on every build and
// platform so that all members rank nodes alike. Exactly (all arithmetic modulo 2^64):
//   h = 0xcbf29ce484222325                           FNV-1a 64 offset basis
//   for each byte b of node, then one 0x00 byte, then each byte b of address:
//     h = (h ^ b) * 0x100000001b3                    FNV-1a 64 prime
//   h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9         splitmix64 finaliser, so that names
//   h = (h ^ (h >> 27)) * 0x94d049bb133111eb         differing in one late byte still rank
//   return h ^ (h >> 31)                             independently
// Changing it moves addresses in a mixed-version cluster: the unit test pins literal values.
uint64_t RendezvousWeight(std::string_view node, std::string_view address);

}  // namespace ec::duravip
