// Which queued messages move to which node (docs/mmove.md). Pure: the caller gathers the
// DuraVIP view (duravip_module: who holds each binding's address) and the queue, and acts on
// the answer. Any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "mta/spool/envelope.h"

namespace ec::mmove {

struct OwnershipView {
  std::string self;  // this node's name
  // Every DuraVIP binding -> the node holding its address now; "" while no node holds it
  // (an election in progress). Bindings not listed are ordinary: their mail leaves from here.
  std::map<std::string, std::string> vip_owner;
  // Members we can hand mail to (in the view and with an ECCluster listener we know).
  std::set<std::string> reachable;
};

enum class Placement {
  kDeliverHere,  // an ordinary binding, or one whose address this node holds
  kMove,         // the address is held by another reachable node: hand the message over
  kHold,         // nobody holds the address, or its holder is unreachable: keep it queued
};

struct PlacementResult {
  Placement placement = Placement::kDeliverHere;
  std::string node;  // kMove: the node to hand it to

  bool operator==(const PlacementResult&) const = default;
};

PlacementResult Place(const std::string& binding, const OwnershipView& view);

struct QueuedMessage {
  uint64_t id = 0;
  std::string binding;  // as the binding table resolves it for the message's first domain
  bool busy = false;    // in a delivery attempt or a move: left alone this round
};

// The messages to move, per target node, in queue order, at most `max_per_node` each (a
// bounded batch; the rest wait for the next round).
std::map<std::string, std::vector<uint64_t>> PlanMoves(const std::vector<QueuedMessage>& queue,
                                                       const OwnershipView& view,
                                                       size_t max_per_node);

// The binding assignment a moved message gets on the receiver. With unconditional_rebind
// (the default, as in Momentum) the sender's assignment is kept as it was spooled (set_binding /
// set_binding_group, or none) and the receiver's binding table resolves it afresh, so a group
// spreads over the receiver's bindings and a binding the receiver does not declare falls back
// to its default. Without it the message is pinned to the binding it was moved for.
struct Assignment {
  std::string binding;
  std::string group;

  bool operator==(const Assignment&) const = default;
};
Assignment AssignmentOnArrival(const Assignment& spooled, const std::string& moved_for,
                               bool unconditional_rebind);

// The envelope a moved message is stored with on the receiver: the sender's, with only the
// recipients still pending there (a recipient delivered or failed on the sender is not tried
// again), and the binding assignment above. No recipients left: nothing to move.
spool::Envelope ArrivingEnvelope(const spool::Envelope& sent,
                                 const std::vector<spool::RecipientState>& states,
                                 const std::string& moved_for, bool unconditional_rebind);

// The operator's `cluster mmove release <node>` (docs/mmove.md, "Releasing moves in doubt"):
// which of the moves in doubt (`in_doubt`: sender queue id -> the node that may hold it) go back
// to this node's scheduler. Refused (nothing released) when `node` is not a valid node name, is
// this node, or is alive on the bus now (`node_alive`: then its answer settles the move).
// Messages with the worker right now (`moving`) are left in doubt and counted: their move ends
// first.
struct ReleasePlan {
  std::vector<uint64_t> ids;  // in queue id order
  size_t moving = 0;          // in doubt for `node` but in a move: not released

  bool operator==(const ReleasePlan&) const = default;
};
Result<ReleasePlan> PlanRelease(const std::map<uint64_t, std::string>& in_doubt,
                                const std::string& node, const std::string& self,
                                bool node_alive, const std::set<uint64_t>& moving);

}  // namespace ec::mmove
