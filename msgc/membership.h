// The membership view: what this node believes about every configured peer (CONNECTING until
// first heard, ALIVE, DEAD), which groups each live peer has joined, and how long the set of live
// members has been unchanged (Momentum's view_mature_time, which DuraVIP waits on).
// Pure state machine: the Bus feeds it what it hears and the time; tests drive it with a fake
// clock. Not thread-safe; owned by one Bus and used on that Bus's event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ec::msgc {

using Clock = std::chrono::steady_clock;

enum class PeerState { kConnecting, kAlive, kDead };
std::string_view PeerStateName(PeerState state);

struct Member {
  std::string name;
  std::string address;
  PeerState state = PeerState::kConnecting;
  uint64_t incarnation = 0;  // 0 until first heard
  std::set<std::string> groups;
  Clock::time_point state_since;  // when `state` was entered
  Clock::time_point last_heard;   // last valid frame from this incarnation
};

struct View {
  uint64_t id = 1;                 // bumps each time a member becomes ALIVE or DEAD
  Clock::time_point stable_since;  // when `id` last changed
  std::vector<Member> members;     // every configured node, self included, sorted by name

  const Member* Find(std::string_view name) const;
  std::vector<std::string> AliveMembers() const;
  Clock::duration StableFor(Clock::time_point now) const { return now - stable_since; }
  bool Mature(Clock::time_point now, Clock::duration mature_time) const {
    return StableFor(now) >= mature_time;
  }
};

struct MembershipEvent {
  enum class Kind {
    kAlive,        // peer (a new incarnation of it, or the same one back) is alive
    kDead,         // peer declared dead: silent too long, said goodbye, or replaced
    kGroupJoined,  // peer joined `group`
    kGroupLeft,    // peer left `group`
  };
  Kind kind;
  std::string peer;
  uint64_t incarnation = 0;
  std::string group;   // group events only
  std::string reason;  // kDead: "timeout", "goodbye", "restarted", "removed" (config reload)

  bool operator==(const MembershipEvent&) const = default;
};
std::string_view EventKindName(MembershipEvent::Kind kind);

class Membership {
 public:
  using Events = std::vector<MembershipEvent>;

  // `peers` maps every configured node name (self included) to its address.
  Membership(std::string self, uint64_t self_incarnation,
             const std::map<std::string, std::string>& peers, Clock::duration dead_timeout,
             Clock::time_point now);

  // A valid frame from `peer` (a configured name other than self). A new incarnation replaces
  // the old one: DEAD("restarted") then ALIVE, so the view counts it as a new member.
  Events Heard(const std::string& peer, uint64_t incarnation, Clock::time_point now);
  // The peer's full group list (HELLO/HEARTBEAT) or one change (JOIN/LEAVE). Call after Heard.
  Events SetGroups(const std::string& peer, const std::vector<std::string>& groups);
  Events JoinGroup(const std::string& peer, const std::string& group);
  Events LeaveGroup(const std::string& peer, const std::string& group);
  // The peer announced a clean shutdown of `incarnation`.
  Events Goodbye(const std::string& peer, uint64_t incarnation, Clock::time_point now);
  // Declares dead every ALIVE peer not heard for dead_timeout. If this node itself was stalled
  // (no Expire call for more than half the timeout) the stall is not held against peers: their
  // silence clocks move forward by the stall and nobody is declared dead this round.
  Events Expire(Clock::time_point now);

  // Config reload (Bus::Reconfigure). AddPeer: a newly configured node, CONNECTING until heard
  // (no event; false if it exists). RemovePeer: a node no longer configured leaves the view; if
  // it was ALIVE that is a DEAD("removed") event and a new view id. SetAddress: the node moved.
  bool AddPeer(const std::string& peer, const std::string& address, Clock::time_point now);
  Events RemovePeer(const std::string& peer, Clock::time_point now);
  void SetAddress(const std::string& peer, const std::string& address);

  bool IsAlive(const std::string& peer) const;
  bool IsConfigured(const std::string& peer) const { return index_.count(peer) != 0; }
  // Live peers (not self) that have joined `group`.
  std::vector<std::string> AliveIn(const std::string& group) const;
  const View& view() const { return view_; }
  const std::string& self() const { return self_; }

 private:
  Member* Find(const std::string& peer);
  void SetState(Member* member, PeerState state, Clock::time_point now);
  void Reindex();

  std::string self_;
  Clock::duration dead_timeout_;
  Clock::time_point last_expire_;
  View view_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in view_.members
};

}  // namespace ec::msgc
