// Bus: this node's member of the cluster message bus (docs/bus-protocol.md). It owns a ZeroMQ
// context, a ROUTER bound on our address:port that receives every peer's frames, and one DEALER
// per peer (routing id = our node name) that sends ours; a full mesh. It runs entirely on the
// caller's libevent loop: the ROUTER and the ZAP handler are watched through ZMQ_FD, heartbeats
// and request deadlines are libevent timers. Callbacks run on that loop, one at a time; they may
// call any Bus method except destroying the Bus.
// Delivery: at most once, in order per sender while its TCP connection holds; a frame that
// cannot be queued (peer not connected, queue full) is dropped and the send reports it.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <zmq.hpp>

#include "common/base/status.h"
#include "msgc/bus_options.h"
#include "msgc/codec.h"
#include "msgc/link_monitor.h"
#include "msgc/loop_socket.h"
#include "msgc/membership.h"
#include "msgc/request_table.h"
#include "msgc/zap_handler.h"

namespace ec::msgc {

// What handlers receive: a decoded SHOUT, WHISPER or REQUEST (type, sender, group, payload).
using Message = Frame;
using MessageHandler = std::function<void(const Message&)>;
using MembershipHandler = std::function<void(const MembershipEvent&, const View&)>;

struct BusStats {
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t send_dropped = 0;  // peer not connected or its queue full
  uint64_t malformed_dropped = 0;
  uint64_t foreign_dropped = 0;  // unknown sender, or sender does not match its identity/key
  uint64_t sequence_gaps = 0;
};

class Bus {
 public:
  // Binds, connects to every peer and starts heartbeats. Fails on bad options, unreadable keys
  // or an address we cannot bind.
  static Result<std::unique_ptr<Bus>> Create(event_base* base, BusOptions options);
  // Says GOODBYE to live peers (so they drop us at once) and closes everything. Pending request
  // callbacks are dropped without being called.
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Config reload (docs/bus-protocol.md, "Reload"): connects peers added in `next`, drops removed
  // ones (DEAD "removed"), replaces the link of a peer whose address or public key changed, and
  // leaves every other link untouched. Changes that need a restart (self, own address, port, own
  // key pair, CURVE on/off, heartbeat/dead timers, send queue size) are refused with
  // kFailedPrecondition and nothing is changed.
  Status Reconfigure(BusOptions next);

  // Group membership of this node, announced to every peer.
  Status Join(const std::string& group);
  Status Leave(const std::string& group);
  bool Joined(const std::string& group) const { return groups_.count(group) != 0; }
  const std::set<std::string>& groups() const { return groups_; }

  // To every live peer that joined `group` (not to ourselves). Fails only on a bad frame;
  // per-peer drops are counted in stats().send_dropped.
  Status Shout(const std::string& group, std::string payload);
  // To one peer; its handler for `group` receives it. kUnavailable if it is not connected.
  Status Whisper(const std::string& peer, const std::string& group, std::string payload);
  // Asks `peer`'s handler for `group`; `done` runs exactly once on the loop (never inside this
  // call): with the reply, kDeadlineExceeded after `timeout`, kUnavailable if the peer is not
  // connected or is declared dead meanwhile, kFailedPrecondition if the peer reports an error.
  void Request(const std::string& peer, const std::string& group, std::string payload,
               std::chrono::milliseconds timeout, ReplyCallback done);
  // Answers a REQUEST (now or later); ReplyError makes the requester's callback fail.
  Status Reply(const Message& request, std::string payload);
  Status ReplyError(const Message& request, std::string error);

  // One handler per group, for SHOUTs (only while joined), WHISPERs and REQUESTs to it.
  // A REQUEST to a group without handler is answered with an error.
  void SetHandler(const std::string& group, MessageHandler handler);
  void SetMembershipHandler(MembershipHandler handler) { membership_handler_ = std::move(handler); }

  const View& view() const { return membership_.view(); }
  bool Mature() const { return view().Mature(Clock::now(), options_.view_mature_time); }
  bool IsAlive(const std::string& peer) const { return membership_.IsAlive(peer); }
  // Our sending link to `peer` is connected and through its handshake. A peer can be ALIVE
  // (we hear it) a moment before this, after either side (re)started; frames sent then drop.
  bool LinkUp(const std::string& peer) const;
  const std::string& name() const { return options_.self; }
  // "address:port" of our ROUTER.
  std::string endpoint() const {
    return options_.peers.at(options_.self) + ":" + std::to_string(options_.port);
  }
  const BusOptions& options() const { return options_; }
  uint64_t incarnation() const { return incarnation_; }
  const BusStats& stats() const { return stats_; }
  // Refusals by the ZAP handler (0 without CURVE).
  uint64_t refused_peers() const { return zap_ ? zap_->refused() : 0; }

 private:
  struct PeerLink {
    zmq::socket_t dealer;
    std::unique_ptr<LinkMonitor> monitor;  // after `dealer`: stops before the dealer closes
    uint64_t next_sequence = 1;
  };
  struct ReceiveState {
    uint64_t incarnation = 0;
    uint64_t last_sequence = 0;
  };
  Bus(event_base* base, BusOptions options);
  Status Start();
  Status SetUpSockets();
  // With CURVE: the public keys of `options`' peers from its key directory; a missing key is
  // logged and left out (that node stays out of the mesh). Empty without CURVE.
  std::map<std::string, std::string> LoadPublicKeys(const BusOptions& options) const;
  // Our DEALER to `peer` (skipped without a key under CURVE); CloseLink drops it unflushed.
  Status OpenLink(const std::string& peer, const std::string& address, uint64_t next_sequence);
  void CloseLink(const std::string& peer);
  // Reconfigure: kFailedPrecondition naming every change in `next` that needs a restart.
  Status CheckLiveChange(const BusOptions& next) const;
  Frame MakeFrame(MessageType type, std::string group, std::string payload) const;
  // Sends one frame to one peer; counts and reports a drop as kUnavailable.
  Status SendTo(const std::string& peer, Frame frame);
  // Stamps the link's next sequence number into an encoded frame and queues it; false if
  // ZeroMQ would not take it.
  bool SendEncoded(const std::string& peer, PeerLink& link, std::string bytes);
  Status SendGroupList(const std::string& peer, MessageType type);
  void SendToAll(MessageType type, const std::string& group);

  void DrainRouter();
  void HandleParts(std::vector<zmq::message_t>& parts);
  // Counts a dropped frame of one kind from `identity`; returns the count when this one is to
  // be logged (the 1st, 2nd, 4th... of each sender and kind), else 0.
  uint64_t LogThisDrop(const std::string& identity, std::string_view kind);
  void HandleFrame(Frame frame);
  void Dispatch(const Message& message);
  void HandleReply(const Frame& frame);
  void Emit(const Membership::Events& events);
  void OnHeartbeat();
  static void OnHeartbeatTimer(evutil_socket_t, short, void* arg);
  void Log(const std::string& line) const;

  event_base* base_;
  BusOptions options_;
  uint64_t incarnation_;
  Membership membership_;
  std::set<std::string> groups_;
  std::map<std::string, MessageHandler> handlers_;
  MembershipHandler membership_handler_;
  std::map<std::string, ReceiveState> receive_;
  std::map<std::string, uint64_t> dropped_by_sender_;  // frames dropped, for LogThisDrop
  RequestTable requests_;
  BusStats stats_;

  std::string secret_key_;                          // ours, Z85; CURVE only
  std::string own_public_key_;                      // ours, Z85; CURVE only
  std::map<std::string, std::string> public_keys_;  // accepted peers' keys (Z85); CURVE only

  // ZeroMQ objects: the context first, so it is destroyed after every socket.
  zmq::context_t context_;
  std::unique_ptr<ZapHandler> zap_;
  zmq::socket_t router_;
  std::map<std::string, PeerLink> links_;
  std::unique_ptr<SocketWatcher> router_watcher_;
  EventPtr heartbeat_timer_;
};

}  // namespace ec::msgc
