#include "msgc/membership.h"

#include <algorithm>

#include "common/base/check.h"

namespace ec::msgc {

std::string_view PeerStateName(PeerState state) {
  switch (state) {
    case PeerState::kConnecting:
      return "CONNECTING";
    case PeerState::kAlive:
      return "ALIVE";
    case PeerState::kDead:
      return "DEAD";
  }
  return "UNKNOWN";
}

std::string_view EventKindName(MembershipEvent::Kind kind) {
  switch (kind) {
    case MembershipEvent::Kind::kAlive:
      return "alive";
    case MembershipEvent::Kind::kDead:
      return "dead";
    case MembershipEvent::Kind::kGroupJoined:
      return "group-joined";
    case MembershipEvent::Kind::kGroupLeft:
      return "group-left";
  }
  return "unknown";
}

const Member* View::Find(std::string_view name) const {
  for (const Member& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<std::string> View::AliveMembers() const {
  std::vector<std::string> out;
  for (const Member& m : members) {
    if (m.state == PeerState::kAlive) out.push_back(m.name);
  }
  return out;
}

Membership::Membership(std::string self, uint64_t self_incarnation,
                       const std::map<std::string, std::string>& peers,
                       Clock::duration dead_timeout, Clock::time_point now)
    : self_(std::move(self)), dead_timeout_(dead_timeout), last_expire_(now) {
  EC_CHECK(peers.count(self_) == 1);
  view_.stable_since = now;
  for (const auto& [name, address] : peers) {  // std::map: already sorted by name
    Member m;
    m.name = name;
    m.address = address;
    m.state_since = now;
    m.last_heard = now;
    if (name == self_) {
      m.state = PeerState::kAlive;
      m.incarnation = self_incarnation;
    }
    index_[name] = view_.members.size();
    view_.members.push_back(std::move(m));
  }
}

Member* Membership::Find(const std::string& peer) {
  auto it = index_.find(peer);
  if (it == index_.end() || peer == self_) return nullptr;
  return &view_.members[it->second];
}

void Membership::SetState(Member* member, PeerState state, Clock::time_point now) {
  member->state = state;
  member->state_since = now;
  if (state == PeerState::kDead) member->groups.clear();
  ++view_.id;
  view_.stable_since = now;
}

Membership::Events Membership::Heard(const std::string& peer, uint64_t incarnation,
                                     Clock::time_point now) {
  Events events;
  Member* m = Find(peer);
  if (m == nullptr) return events;
  if (m->state == PeerState::kAlive && m->incarnation != incarnation) {
    events.push_back({MembershipEvent::Kind::kDead, peer, m->incarnation, "", "restarted"});
    SetState(m, PeerState::kDead, now);
  }
  m->last_heard = now;
  if (m->state != PeerState::kAlive) {
    m->incarnation = incarnation;
    SetState(m, PeerState::kAlive, now);
    events.push_back({MembershipEvent::Kind::kAlive, peer, incarnation, "", ""});
  }
  return events;
}

Membership::Events Membership::SetGroups(const std::string& peer,
                                         const std::vector<std::string>& groups) {
  Events events;
  Member* m = Find(peer);
  if (m == nullptr || m->state != PeerState::kAlive) return events;
  std::set<std::string> wanted(groups.begin(), groups.end());
  for (const std::string& g : m->groups) {
    if (wanted.count(g) == 0) {
      events.push_back({MembershipEvent::Kind::kGroupLeft, peer, m->incarnation, g, ""});
    }
  }
  for (const std::string& g : wanted) {
    if (m->groups.count(g) == 0) {
      events.push_back({MembershipEvent::Kind::kGroupJoined, peer, m->incarnation, g, ""});
    }
  }
  m->groups = std::move(wanted);
  return events;
}

Membership::Events Membership::JoinGroup(const std::string& peer, const std::string& group) {
  Member* m = Find(peer);
  if (m == nullptr || m->state != PeerState::kAlive || !m->groups.insert(group).second) return {};
  return {{MembershipEvent::Kind::kGroupJoined, peer, m->incarnation, group, ""}};
}

Membership::Events Membership::LeaveGroup(const std::string& peer, const std::string& group) {
  Member* m = Find(peer);
  if (m == nullptr || m->state != PeerState::kAlive || m->groups.erase(group) == 0) return {};
  return {{MembershipEvent::Kind::kGroupLeft, peer, m->incarnation, group, ""}};
}

Membership::Events Membership::Goodbye(const std::string& peer, uint64_t incarnation,
                                       Clock::time_point now) {
  Member* m = Find(peer);
  if (m == nullptr || m->state != PeerState::kAlive || m->incarnation != incarnation) return {};
  SetState(m, PeerState::kDead, now);
  return {{MembershipEvent::Kind::kDead, peer, incarnation, "", "goodbye"}};
}

Membership::Events Membership::Expire(Clock::time_point now) {
  Events events;
  const Clock::duration since_last = now - last_expire_;
  last_expire_ = now;
  if (since_last > dead_timeout_ / 2) {
    // We were not running (CPU starved, stopped, suspended): peers' frames may sit unread in
    // queues we did not drain, so our stall does not count as their silence.
    for (Member& m : view_.members) m.last_heard = std::min(m.last_heard + since_last, now);
    return events;
  }
  for (Member& m : view_.members) {
    if (m.name == self_ || m.state != PeerState::kAlive) continue;
    if (now - m.last_heard >= dead_timeout_) {
      SetState(&m, PeerState::kDead, now);
      events.push_back({MembershipEvent::Kind::kDead, m.name, m.incarnation, "", "timeout"});
    }
  }
  return events;
}

bool Membership::AddPeer(const std::string& peer, const std::string& address,
                         Clock::time_point now) {
  if (index_.count(peer) != 0) return false;
  Member m;
  m.name = peer;
  m.address = address;
  m.state_since = now;
  m.last_heard = now;
  auto at = std::lower_bound(view_.members.begin(), view_.members.end(), peer,
                             [](const Member& a, const std::string& b) { return a.name < b; });
  view_.members.insert(at, std::move(m));
  Reindex();
  return true;
}

Membership::Events Membership::RemovePeer(const std::string& peer, Clock::time_point now) {
  Events events;
  Member* m = Find(peer);
  if (m == nullptr) return events;
  if (m->state == PeerState::kAlive) {
    events.push_back({MembershipEvent::Kind::kDead, peer, m->incarnation, "", "removed"});
    SetState(m, PeerState::kDead, now);
  }
  view_.members.erase(view_.members.begin() + static_cast<std::ptrdiff_t>(index_.at(peer)));
  Reindex();
  return events;
}

void Membership::SetAddress(const std::string& peer, const std::string& address) {
  if (Member* m = Find(peer)) m->address = address;
}

void Membership::Reindex() {
  index_.clear();
  for (size_t i = 0; i < view_.members.size(); ++i) index_[view_.members[i].name] = i;
}

bool Membership::IsAlive(const std::string& peer) const {
  auto it = index_.find(peer);
  return it != index_.end() && view_.members[it->second].state == PeerState::kAlive;
}

std::vector<std::string> Membership::AliveIn(const std::string& group) const {
  std::vector<std::string> out;
  for (const Member& m : view_.members) {
    if (m.name != self_ && m.state == PeerState::kAlive && m.groups.count(group) != 0) {
      out.push_back(m.name);
    }
  }
  return out;
}

}  // namespace ec::msgc
