#include "mta/mmove/move_decision.h"

#include "msgc/node_name.h"

namespace ec::mmove {

PlacementResult Place(const std::string& binding, const OwnershipView& view) {
  auto it = view.vip_owner.find(binding);
  if (it == view.vip_owner.end() || it->second == view.self) return {};
  // An address nobody holds cannot be sent from here either (it is unplumbed everywhere);
  // waiting keeps the mail on the binding it was given.
  if (it->second.empty() || !view.reachable.count(it->second)) {
    return {.placement = Placement::kHold};
  }
  return {.placement = Placement::kMove, .node = it->second};
}

std::map<std::string, std::vector<uint64_t>> PlanMoves(const std::vector<QueuedMessage>& queue,
                                                       const OwnershipView& view,
                                                       size_t max_per_node) {
  std::map<std::string, std::vector<uint64_t>> out;
  for (const QueuedMessage& m : queue) {
    if (m.busy) continue;
    PlacementResult p = Place(m.binding, view);
    if (p.placement != Placement::kMove) continue;
    std::vector<uint64_t>& ids = out[p.node];
    if (ids.size() < max_per_node) ids.push_back(m.id);
  }
  for (auto it = out.begin(); it != out.end();) {
    it = it->second.empty() ? out.erase(it) : std::next(it);
  }
  return out;
}

Assignment AssignmentOnArrival(const Assignment& spooled, const std::string& moved_for,
                               bool unconditional_rebind) {
  if (unconditional_rebind) return spooled;
  return {.binding = moved_for, .group = ""};
}

spool::Envelope ArrivingEnvelope(const spool::Envelope& sent,
                                 const std::vector<spool::RecipientState>& states,
                                 const std::string& moved_for, bool unconditional_rebind) {
  spool::Envelope out = sent;
  out.rcpts.clear();
  for (size_t i = 0; i < sent.rcpts.size(); ++i) {
    const bool pending =
        i >= states.size() || states[i].kind == spool::RecipientState::Kind::kPending;
    if (pending) out.rcpts.push_back(sent.rcpts[i]);
  }
  Assignment a = AssignmentOnArrival({.binding = sent.binding, .group = sent.binding_group},
                                     moved_for, unconditional_rebind);
  out.binding = a.binding;
  out.binding_group = a.group;
  return out;
}

Result<ReleasePlan> PlanRelease(const std::map<uint64_t, std::string>& in_doubt,
                                const std::string& node, const std::string& self,
                                bool node_alive, const std::set<uint64_t>& moving) {
  EC_RETURN_IF_ERROR(msgc::CheckNodeName(node));
  if (node == self) return InvalidArgument("nothing is moved to this node itself");
  // A live node answers the next move ("stored" or "dup"): releasing now could deliver twice
  // for nothing.
  if (node_alive) {
    return FailedPrecondition(node + " is alive on the bus: its moves in doubt settle themselves");
  }
  ReleasePlan plan;
  for (const auto& [id, to] : in_doubt) {
    if (to != node) continue;
    if (moving.count(id)) {
      ++plan.moving;
    } else {
      plan.ids.push_back(id);
    }
  }
  return plan;
}

}  // namespace ec::mmove
