#include "msgc/bus.h"

#include <cstdio>
#include <zmq_addon.hpp>

#include "msgc/curve_keys.h"

namespace ec::msgc {
namespace {

// Offset of the sequence number in an encoded frame (docs/bus-protocol.md).
constexpr size_t kSequenceOffset = 12;
// How long closing waits to flush GOODBYE frames to connected peers.
constexpr int kCloseLingerMs = 250;

uint64_t NewIncarnation() {
  // Wall-clock nanoseconds: a restarted process always gets a different value.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return ns > 0 ? static_cast<uint64_t>(ns) : 1;
}

bool IsApplicationFrame(MessageType type) {
  return type == MessageType::kShout || type == MessageType::kWhisper ||
         type == MessageType::kRequest || type == MessageType::kReply;
}

// A peer-supplied string made safe for a log line.
std::string Printable(std::string_view s) {
  std::string out(s.substr(0, kMaxNameLength));
  for (char& c : out) {
    if (c <= ' ' || c >= 0x7f || c == '"') c = '?';
  }
  return out.empty() ? "-" : out;
}

void PatchSequence(std::string* bytes, uint64_t sequence) {
  for (int i = 7; i >= 0; --i) {
    (*bytes)[kSequenceOffset + i] = static_cast<char>(sequence & 0xff);
    sequence >>= 8;
  }
}

}  // namespace

Bus::Bus(event_base* base, BusOptions options)
    : base_(base),
      options_(std::move(options)),
      incarnation_(NewIncarnation()),
      membership_(options_.self, incarnation_, options_.peers, options_.dead_timeout, Clock::now()),
      requests_(base),
      context_(1),
      router_(context_, zmq::socket_type::router) {
  if (!options_.log) {
    options_.log = [](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
}

Result<std::unique_ptr<Bus>> Bus::Create(event_base* base, BusOptions options) {
  EC_RETURN_IF_ERROR(ValidateBusOptions(options));
  std::unique_ptr<Bus> bus(new Bus(base, std::move(options)));
  EC_RETURN_IF_ERROR(bus->Start());
  return bus;
}

Status Bus::Start() {
  if (options_.curve.enabled()) {
    EC_ASSIGN_OR_RETURN(KeyPair pair, ReadSecretKeyFile(options_.curve.secret_key_file));
    secret_key_ = pair.secret_key;
    own_public_key_ = pair.public_key;
    public_keys_ = LoadPublicKeys(options_);
    EC_ASSIGN_OR_RETURN(zap_, ZapHandler::Create(base_, context_, public_keys_, options_.log));
  }
  EC_RETURN_IF_ERROR(SetUpSockets());
  Bus* self = this;
  EC_ASSIGN_OR_RETURN(router_watcher_,
                      SocketWatcher::Create(base_, router_, [self] { self->DrainRouter(); }));
  heartbeat_timer_.reset(event_new(base_, -1, EV_PERSIST, &OnHeartbeatTimer, this));
  const auto interval_us =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.heartbeat_interval).count();
  const timeval tv = {static_cast<time_t>(interval_us / 1000000),
                      static_cast<suseconds_t>(interval_us % 1000000)};
  if (!heartbeat_timer_ || event_add(heartbeat_timer_.get(), &tv) != 0) {
    return Internal("cannot start the heartbeat timer");
  }
  Log("msgc: event=bus_started node=" + options_.self +
      " address=" + options_.peers.at(options_.self) + " port=" + std::to_string(options_.port) +
      " incarnation=" + std::to_string(incarnation_) +
      " curve=" + (options_.curve.enabled() ? "on" : "off"));
  SendToAll(MessageType::kHello, "");
  return Status::Ok();
}

std::map<std::string, std::string> Bus::LoadPublicKeys(const BusOptions& options) const {
  if (!options.curve.enabled()) return {};
  std::vector<std::string> names;
  for (const auto& [name, address] : options.peers) names.push_back(name);
  // A node whose key is not committed yet stays out of the mesh; the rest still works.
  std::map<std::string, std::string> public_keys = ReadMemberKeys(
      options.curve.public_key_dir, names, [this](std::string_view line) { Log(std::string(line)); },
      "msgc");
  auto own = public_keys.find(options.self);
  if (own != public_keys.end() && own->second != own_public_key_) {
    Log("msgc: event=own_key_mismatch peer=" + options.self + " file=" +
        options.curve.public_key_dir + "/" + options.self + ".pub" +
        " detail=\"peers will refuse this node until its public key is committed\"");
  }
  return public_keys;
}

Status Bus::SetUpSockets() {
  const bool curve = options_.curve.enabled();
  const std::string& self_address = options_.peers.at(options_.self);
  const int heartbeat_ms = static_cast<int>(options_.heartbeat_interval.count());
  const int timeout_ms = static_cast<int>(options_.dead_timeout.count());
  try {
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::router_handover, 1);  // a restarted peer replaces its old pipe
    router_.set(zmq::sockopt::rcvhwm, 100000);
    // Backstop only: the codec drops (and logs) anything over kMaxFrameSize; ZeroMQ cuts a
    // connection that sends something absurdly large before it is buffered.
    router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(2 * kMaxFrameSize));
    router_.set(zmq::sockopt::heartbeat_ivl, heartbeat_ms);
    router_.set(zmq::sockopt::heartbeat_timeout, timeout_ms);
    if (curve) {
      router_.set(zmq::sockopt::curve_server, 1);
      router_.set(zmq::sockopt::curve_secretkey, secret_key_);
      router_.set(zmq::sockopt::zap_domain, kZapDomain);
    }
    router_.bind("tcp://" + self_address + ":" + std::to_string(options_.port));
  } catch (const zmq::error_t& e) {
    return Unavailable("binding msgc on " + self_address + ":" + std::to_string(options_.port) +
                       ": " + e.what());
  }
  for (const auto& [name, address] : options_.peers) {
    if (name != options_.self) EC_RETURN_IF_ERROR(OpenLink(name, address, 1));
  }
  return Status::Ok();
}

Status Bus::OpenLink(const std::string& name, const std::string& address, uint64_t next_sequence) {
  const bool curve = options_.curve.enabled();
  if (curve && public_keys_.count(name) == 0) return Status::Ok();
  const std::string& self_address = options_.peers.at(options_.self);
  const int heartbeat_ms = static_cast<int>(options_.heartbeat_interval.count());
  const int timeout_ms = static_cast<int>(options_.dead_timeout.count());
  // Built in place: the monitor keeps a reference to the map's socket.
  PeerLink& link = links_.emplace(name, PeerLink{zmq::socket_t(context_, zmq::socket_type::dealer)})
                       .first->second;
  link.next_sequence = next_sequence;
  zmq::socket_t& dealer = link.dealer;
  EC_ASSIGN_OR_RETURN(link.monitor,
                      LinkMonitor::Create(base_, context_, dealer, name, options_.log));
  try {
    dealer.set(zmq::sockopt::routing_id, options_.self);
    dealer.set(zmq::sockopt::immediate, 1);  // never queue for a peer that is not there
    dealer.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    dealer.set(zmq::sockopt::linger, kCloseLingerMs);
    dealer.set(zmq::sockopt::reconnect_ivl, std::min(100, heartbeat_ms));
    dealer.set(zmq::sockopt::reconnect_ivl_max, std::max(heartbeat_ms, 100));
    dealer.set(zmq::sockopt::heartbeat_ivl, heartbeat_ms);
    dealer.set(zmq::sockopt::heartbeat_timeout, timeout_ms);
    dealer.set(zmq::sockopt::connect_timeout, timeout_ms);
    if (curve) {
      auto secret = Z85ToBinary(secret_key_);
      auto ours = Z85ToBinary(own_public_key_);
      auto theirs = Z85ToBinary(public_keys_.at(name));
      if (!secret.ok() || !ours.ok() || !theirs.ok()) return InvalidArgument("bad CURVE key");
      dealer.set(zmq::sockopt::curve_serverkey, zmq::buffer(*theirs));
      dealer.set(zmq::sockopt::curve_publickey, zmq::buffer(*ours));
      dealer.set(zmq::sockopt::curve_secretkey, zmq::buffer(*secret));
    }
    // Connect from our own address so the peer (and its logs) see who we are.
    dealer.connect("tcp://" + self_address + ":0;" + address + ":" + std::to_string(options_.port));
  } catch (const zmq::error_t& e) {
    return Unavailable("connecting msgc to " + name + " at " + address + ": " + e.what());
  }
  return Status::Ok();
}

Bus::~Bus() {
  for (const std::string& peer : view().AliveMembers()) {
    if (peer != options_.self) (void)SendTo(peer, MakeFrame(MessageType::kGoodbye, "", ""));
  }
  Log("msgc: event=bus_stopped node=" + options_.self);
}

bool Bus::LinkUp(const std::string& peer) const {
  auto it = links_.find(peer);
  return it != links_.end() && it->second.monitor->up();
}

void Bus::Log(const std::string& line) const { options_.log(line); }

Frame Bus::MakeFrame(MessageType type, std::string group, std::string payload) const {
  Frame frame;
  frame.type = type;
  frame.incarnation = incarnation_;
  frame.sender = options_.self;
  frame.group = std::move(group);
  frame.payload = std::move(payload);
  return frame;
}

Status Bus::SendTo(const std::string& peer, Frame frame) {
  auto link = links_.find(peer);
  const MessageType type = frame.type;
  if (link == links_.end()) {
    if (IsApplicationFrame(type)) ++stats_.send_dropped;
    return Unavailable("msgc peer `" + peer + "` is not configured or has no key");
  }
  EC_ASSIGN_OR_RETURN(std::string bytes, Encode(frame));
  if (!SendEncoded(peer, link->second, std::move(bytes))) {
    if (IsApplicationFrame(type)) ++stats_.send_dropped;
    return Unavailable("msgc peer `" + peer + "` is not connected or its queue is full");
  }
  return Status::Ok();
}

bool Bus::SendEncoded(const std::string& peer, PeerLink& link, std::string bytes) {
  PatchSequence(&bytes, link.next_sequence);
  std::optional<size_t> sent;
  try {
    sent = link.dealer.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    Log("msgc: event=send_error peer=" + peer + " error=\"" + e.what() + "\"");
  }
  if (!sent) return false;
  ++link.next_sequence;
  ++stats_.frames_sent;
  return true;
}

Status Bus::SendGroupList(const std::string& peer, MessageType type) {
  EC_ASSIGN_OR_RETURN(std::string list,
                      EncodeGroupList(std::vector<std::string>(groups_.begin(), groups_.end())));
  return SendTo(peer, MakeFrame(type, "", std::move(list)));
}

void Bus::SendToAll(MessageType type, const std::string& group) {
  for (const auto& [peer, link] : links_) {
    if (type == MessageType::kHello || type == MessageType::kHeartbeat) {
      (void)SendGroupList(peer, type);
    } else {
      (void)SendTo(peer, MakeFrame(type, group, ""));
    }
  }
}

Status Bus::Join(const std::string& group) {
  if (!IsValidGroupName(group)) return InvalidArgument("bad group name `" + group + "`");
  if (groups_.size() >= kMaxGroupsPerList) return ResourceExhausted("too many groups joined");
  if (!groups_.insert(group).second) return Status::Ok();
  SendToAll(MessageType::kJoin, group);
  return Status::Ok();
}

Status Bus::Leave(const std::string& group) {
  if (groups_.erase(group) == 0) return Status::Ok();
  SendToAll(MessageType::kLeave, group);
  return Status::Ok();
}

Status Bus::Shout(const std::string& group, std::string payload) {
  Frame frame = MakeFrame(MessageType::kShout, group, std::move(payload));
  frame.sequence = 1;
  EC_ASSIGN_OR_RETURN(std::string bytes, Encode(frame));
  for (const std::string& peer : membership_.AliveIn(group)) {
    auto link = links_.find(peer);
    if (link == links_.end() || !SendEncoded(peer, link->second, bytes)) ++stats_.send_dropped;
  }
  return Status::Ok();
}

Status Bus::Whisper(const std::string& peer, const std::string& group, std::string payload) {
  return SendTo(peer, MakeFrame(MessageType::kWhisper, group, std::move(payload)));
}

void Bus::Request(const std::string& peer, const std::string& group, std::string payload,
                  std::chrono::milliseconds timeout, ReplyCallback done) {
  const uint64_t id = requests_.Add(peer, timeout, std::move(done));
  Frame frame = MakeFrame(MessageType::kRequest, group, std::move(payload));
  frame.correlation = id;
  Status sent = SendTo(peer, std::move(frame));
  if (!sent.ok()) requests_.FailSoon(id, std::move(sent));
}

Status Bus::Reply(const Message& request, std::string payload) {
  if (request.type != MessageType::kRequest) return InvalidArgument("reply to a non-REQUEST");
  Frame frame = MakeFrame(MessageType::kReply, request.group, std::move(payload));
  frame.correlation = request.correlation;
  return SendTo(request.sender, std::move(frame));
}

Status Bus::ReplyError(const Message& request, std::string error) {
  if (request.type != MessageType::kRequest) return InvalidArgument("reply to a non-REQUEST");
  Frame frame = MakeFrame(MessageType::kReply, request.group, std::move(error));
  frame.correlation = request.correlation;
  frame.flags = kFlagError;
  return SendTo(request.sender, std::move(frame));
}

void Bus::SetHandler(const std::string& group, MessageHandler handler) {
  if (handler) {
    handlers_[group] = std::move(handler);
  } else {
    handlers_.erase(group);
  }
}

void Bus::OnHeartbeatTimer(evutil_socket_t, short, void* arg) {
  static_cast<Bus*>(arg)->OnHeartbeat();
}

void Bus::OnHeartbeat() {
  // Read what has arrived first, so a frame waiting in our queue is not mistaken for silence.
  DrainRouter();
  Emit(membership_.Expire(Clock::now()));
  SendToAll(MessageType::kHeartbeat, "");
}

void Bus::DrainRouter() {
  try {
    int handled = 0;
    while (Readable(router_)) {
      if (handled++ >= options_.messages_per_iteration) {
        router_watcher_->Activate();  // let timers and other sockets run, then continue
        return;
      }
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
        break;
      }
      HandleParts(parts);
    }
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM) Log(std::string("msgc: event=receive_error error=\"") + e.what() + "\"");
  }
}

uint64_t Bus::LogThisDrop(const std::string& identity, std::string_view kind) {
  // A peer removed by a reload keeps sending until it reloads too: log the 1st, 2nd, 4th, 8th...
  // frame from each sender, so the refusal is seen without a line per heartbeat.
  if (dropped_by_sender_.size() > 1024) dropped_by_sender_.clear();  // a name-cycling client
  const uint64_t n = ++dropped_by_sender_[identity + " " + std::string(kind)];
  return (n & (n - 1)) == 0 ? n : 0;
}

void Bus::HandleParts(std::vector<zmq::message_t>& parts) {
  const std::string identity = parts.empty() ? "" : parts[0].to_string();
  if (parts.size() != 2) {
    ++stats_.malformed_dropped;
    if (LogThisDrop(identity, "parts") == 0) return;
    Log("msgc: event=frame_dropped peer=" + Printable(identity) + " reason=\"" +
        std::to_string(parts.size()) + " message parts, expected 2\"");
    return;
  }
  auto frame = Decode(parts[1].to_string_view());
  if (!frame.ok()) {
    ++stats_.malformed_dropped;
    if (LogThisDrop(identity, "decode") == 0) return;
    Log("msgc: event=frame_dropped peer=" + Printable(identity) + " size=" +
        std::to_string(parts[1].size()) + " reason=\"" + frame.status().message() + "\"");
    return;
  }
  // With CURVE the connection's key must still be the sender's: ZeroMQ does not re-run ZAP on
  // an established connection when a reload replaces that key.
  const char* user_id = zmq_msg_gets(parts[1].handle(), "User-Id");
  const char* key = zmq_msg_gets(parts[1].handle(), kZapKeyProperty);
  auto current_key = public_keys_.find(frame->sender);
  const bool key_matches = !options_.curve.enabled() ||
                           (user_id != nullptr && frame->sender == user_id && key != nullptr &&
                            current_key != public_keys_.end() && current_key->second == key);
  if (frame->sender != identity || !key_matches || frame->sender == options_.self ||
      !membership_.IsConfigured(frame->sender)) {
    ++stats_.foreign_dropped;
    const uint64_t count = LogThisDrop(identity, "foreign");
    if (count == 0) return;
    Log("msgc: event=frame_dropped peer=" + Printable(identity) + " count=" + std::to_string(count) +
        " sender=" + Printable(frame->sender) +
        " reason=\"sender is not a configured peer or does not match "
        "its connection\"");
    return;
  }
  HandleFrame(std::move(frame).value());
}

void Bus::HandleFrame(Frame frame) {
  ++stats_.frames_received;
  ReceiveState& rx = receive_[frame.sender];
  if (rx.incarnation == frame.incarnation && frame.sequence != rx.last_sequence + 1) {
    ++stats_.sequence_gaps;
    Log("msgc: event=sequence_gap peer=" + frame.sender + " expected=" +
        std::to_string(rx.last_sequence + 1) + " got=" + std::to_string(frame.sequence));
  }
  rx.incarnation = frame.incarnation;
  rx.last_sequence = frame.sequence;

  Emit(membership_.Heard(frame.sender, frame.incarnation, Clock::now()));
  switch (frame.type) {
    case MessageType::kHello:
    case MessageType::kHeartbeat: {
      auto groups = DecodeGroupList(frame.payload);  // Decode validated it already
      if (groups.ok()) Emit(membership_.SetGroups(frame.sender, *groups));
      // A new peer learns our groups now rather than at our next heartbeat.
      if (frame.type == MessageType::kHello) {
        (void)SendGroupList(frame.sender, MessageType::kHeartbeat);
      }
      break;
    }
    case MessageType::kJoin:
      Emit(membership_.JoinGroup(frame.sender, frame.group));
      break;
    case MessageType::kLeave:
      Emit(membership_.LeaveGroup(frame.sender, frame.group));
      break;
    case MessageType::kGoodbye:
      Emit(membership_.Goodbye(frame.sender, frame.incarnation, Clock::now()));
      break;
    case MessageType::kReply:
      HandleReply(frame);
      break;
    case MessageType::kShout:
    case MessageType::kWhisper:
    case MessageType::kRequest:
      Dispatch(frame);
      break;
  }
}

void Bus::Dispatch(const Message& message) {
  auto handler = handlers_.find(message.group);
  const bool deliver =
      handler != handlers_.end() && (message.type != MessageType::kShout || Joined(message.group));
  if (deliver) {
    MessageHandler copy = handler->second;  // the handler may replace itself
    copy(message);
  } else if (message.type == MessageType::kRequest) {
    (void)ReplyError(message, "no handler for group `" + message.group + "` on " + options_.self);
  }
}

void Bus::HandleReply(const Frame& frame) {
  if (frame.flags & kFlagError) {
    (void)requests_.Complete(
        frame.correlation, frame.sender,
        Status(StatusCode::kFailedPrecondition, frame.sender + ": " + frame.payload));
  } else {
    (void)requests_.Complete(frame.correlation, frame.sender, frame.payload);
  }
}

void Bus::Emit(const Membership::Events& events) {
  for (const MembershipEvent& event : events) {
    const bool state_change =
        event.kind == MembershipEvent::Kind::kAlive || event.kind == MembershipEvent::Kind::kDead;
    if (state_change) {
      std::string line = "msgc: event=peer_" + std::string(EventKindName(event.kind)) +
                         " node=" + options_.self + " peer=" + event.peer +
                         " incarnation=" + std::to_string(event.incarnation) +
                         " view=" + std::to_string(view().id);
      if (!event.reason.empty()) line += " reason=" + event.reason;
      Log(line);
    }
    if (event.kind == MembershipEvent::Kind::kDead) {
      requests_.FailPeer(event.peer, Unavailable("msgc peer `" + event.peer +
                                                 "` was declared dead (" + event.reason + ")"));
    }
    if (membership_handler_) membership_handler_(event, view());
  }
}

}  // namespace ec::msgc
