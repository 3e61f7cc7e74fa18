#include "mta/cluster/limit_members.h"

#include <algorithm>
#include <chrono>

namespace ec::mta::cluster {
namespace {

// A member alive this long without joining the cluster group runs no limits (ecconfigd).
constexpr auto kBystanderGrace = std::chrono::seconds(2);

}  // namespace

LimitMembers LimitMembersOf(const msgc::View& view, const std::string& self,
                            const std::string& group, const std::set<std::string>& control_peers,
                            std::set<std::string>* bystanders, msgc::Clock::time_point now) {
  LimitMembers out;
  bool have_self = false;
  for (const msgc::Member& m : view.members) {
    if (m.name == self) {
      have_self = true;
      out.members.push_back(self);
      out.alive.push_back(self);
      continue;
    }
    if (control_peers.contains(m.name)) continue;
    const bool in_group = m.groups.contains(group);
    if (m.state == msgc::PeerState::kAlive) {
      if (in_group) {
        bystanders->erase(m.name);
      } else if (now - m.state_since >= kBystanderGrace) {
        bystanders->insert(m.name);
      }
    }
    if (bystanders->contains(m.name)) continue;
    out.members.push_back(m.name);
    if (m.state == msgc::PeerState::kAlive && in_group) out.alive.push_back(m.name);
  }
  if (!have_self) {
    out.members.push_back(self);
    out.alive.push_back(self);
  }
  std::sort(out.members.begin(), out.members.end());
  std::sort(out.alive.begin(), out.alive.end());
  return out;
}

}  // namespace ec::mta::cluster
