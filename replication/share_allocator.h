// ShareAllocator: the pure decision behind every cluster-wide limit (docs/cluster-limits.md,
// "How a limit is shared"). One limited object (a domain's cluster_max_outbound_connections, a
// cluster throttle's window, ...) has a cluster-wide limit L counted in units: open connections,
// or sends within the throttle's window (a send holds its unit until it is `window` old, so one
// rule serves connection caps and throttles alike).
//
// A node starts a unit only while its usage is below the grant it holds. The leader (the
// lowest-named live member with a quorum, see LeaderOf) sets grants from the members' reports:
//  - target: L shared max-min fairly by demand (a node gets min(demand, level)); the units the
//    level leaves over go one each to nodes in name order. Demand 0: target 0.
//  - a decrease is sent at once; an increase only out of headroom, that is L minus every other
//    node's claim, where claim = max(usage, held, an unacknowledged grant in flight). So a
//    node's released units go to another only after it has acknowledged holding less and its
//    reported usage has fallen: whatever order reports and grants arrive in, the claims of live
//    nodes never sum past L.
//  - increases wait until every live node's report names this leader (`leader`), so a node
//    still applying a former leader's grant is never overlooked after a leader change.
//  - a node dropped from the view claims nothing: the only way past L (the documented bound)
//    is a node declared dead while it still holds units (a partition or a stall).
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ec::replication {

// What one node reports about one object.
struct NodeShare {
  std::string node;
  std::string leader;      // the leader whose grants it applies ("" none yet)
  uint64_t usage = 0;      // units it holds now
  uint64_t demand = 0;     // units it could use now: usage + backlog, capped at the limit
  uint64_t held = 0;       // the grant it holds (the last one it applied)
  uint64_t acked_seq = 0;  // seq of the last grant it applied from `leader`

  bool operator==(const NodeShare&) const = default;
};

// A grant from the leader to one node; seq grows per (leader, object, node).
struct Grant {
  std::string node;
  uint64_t units = 0;
  uint64_t seq = 0;

  bool operator==(const Grant&) const = default;
};

// The leader's memory of one object: the last grant it sent each node.
struct AllocatorState {
  std::map<std::string, Grant> granted;  // by node
  // By node: grants sent that it has not acknowledged yet, in seq order. It applies grants in
  // the order sent, so only a later one it acknowledges retires one; an older, smaller grant can
  // never raise its claim past a later, larger one, so it is dropped (units fall along the list).
  std::map<std::string, std::vector<Grant>> unacked;
};

// The grants `self` (the leader) sends now for an object with limit `limit`, given the latest
// reports of the live nodes (self included; any order, one per node). Returns only grants that
// differ from what `state` says was last sent (a node it never sent one to: from the grant the
// node reports holding), and records them in `state` (with the next seq, past the node's
// acked_seq when it follows `self`). Nodes not in `live` are forgotten. A view member that has not
// reported yet must be passed as a share naming no leader, so increases wait for its figures.
std::vector<Grant> Allocate(const std::string& self, uint64_t limit,
                            const std::vector<NodeShare>& live, AllocatorState* state);

// The units `n` may hold now in the leader's accounting (see above): max(usage, held, a grant
// sent to it that it has not acknowledged yet).
uint64_t Claim(const NodeShare& n, const AllocatorState& state, const std::string& self);

// Max-min fair targets of `limit` among `live` by demand (exposed for tests and the console).
std::map<std::string, uint64_t> Targets(uint64_t limit, const std::vector<NodeShare>& live);

// The leader of a view: the lowest name among `alive` (self included), if `alive` holds a
// strict majority of `members` (all configured members, self included); else none. Names in
// `alive` that are not members (eccmgr is on the group too) neither count nor lead.
std::optional<std::string> LeaderOf(const std::vector<std::string>& alive,
                                    const std::vector<std::string>& members);

// What a node without a leader (no quorum) may hold: floor(limit / members). The minority side
// of a partition stays within this, so the cluster's overshoot is at most this per cut-off node.
uint64_t StaticShare(uint64_t limit, size_t members);

}  // namespace ec::replication
