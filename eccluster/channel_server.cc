#include "eccluster/channel_server.h"

#include <iostream>
#include <zmq_addon.hpp>

#include "eccluster/frames.h"
#include "eccluster/send_frames.h"
#include "msgc/curve_keys.h"
#include "msgc/loop_socket.h"

namespace ec::eccluster {
namespace {

// Requests handled per wakeup before other events get a turn.
constexpr int kMessagesPerWakeup = 100;
// Unanswered requests (long-polling reads) per listen address; beyond it requests get "busy".
constexpr uint64_t kMaxInFlight = 256;
constexpr auto kMalformedLogInterval = std::chrono::seconds(1);

std::string Meta(zmq::message_t& message, const char* property) {
  const char* value = zmq_msg_gets(message.handle(), property);
  return value ? value : "";
}

}  // namespace

struct ChannelServer::Endpoint {
  explicit Endpoint(zmq::context_t& context) : socket(context, zmq::socket_type::router) {}
  zmq::socket_t socket;
  std::unique_ptr<msgc::SocketWatcher> watcher;  // after the socket: goes first
  uint64_t in_flight = 0;
};

std::string ListenAddressForBind(const std::string& name) {
  if (name.rfind("*:", 0) == 0) return "0.0.0.0" + name.substr(1);
  if (name.rfind(':', 0) == 0) return "0.0.0.0" + name;
  return name;
}

ChannelServer::ChannelServer(event_base* base, ChannelServerOptions options)
    : base_(base), options_(std::move(options)) {
  if (!options_.log) {
    options_.log = [](std::string_view line) { std::cerr << line << "\n"; };
  }
}

ChannelServer::~ChannelServer() = default;

void ChannelServer::Log(const std::string& line) const { options_.log(line); }

Result<std::unique_ptr<ChannelServer>> ChannelServer::Start(event_base* base,
                                                            ChannelServerOptions options) {
  std::unique_ptr<ChannelServer> server(new ChannelServer(base, std::move(options)));
  std::string secret_key;
  if (server->curve()) {
    const msgc::CurveOptions& curve = server->options_.curve;
    EC_ASSIGN_OR_RETURN(msgc::KeyPair pair, msgc::ReadSecretKeyFile(curve.secret_key_file));
    secret_key = pair.secret_key;
    // As on the bus: a member whose key is not committed yet cannot connect; the rest can.
    std::map<std::string, std::string> keys = server->MemberKeys(server->options_.peers);
    EC_ASSIGN_OR_RETURN(
        server->zap_, msgc::ZapHandler::Create(base, server->context_, keys, server->options_.log));
  }
  for (const std::string& address : server->options_.listen) {
    EC_RETURN_IF_ERROR(server->Listen(address, secret_key));
  }
  return server;
}

Status ChannelServer::Listen(const std::string& address, const std::string& secret_key) {
  auto endpoint = std::make_shared<Endpoint>(context_);
  zmq::socket_t& socket = endpoint->socket;
  try {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(2 * kMaxCommandLine));
    if (curve()) {
      socket.set(zmq::sockopt::curve_server, 1);
      socket.set(zmq::sockopt::curve_secretkey, secret_key);
      socket.set(zmq::sockopt::zap_domain, kZapDomain);
    }
    socket.bind("tcp://" + ListenAddressForBind(address));
    std::string bound = socket.get(zmq::sockopt::last_endpoint);
    if (bound.rfind("tcp://", 0) == 0) bound.erase(0, 6);
    addresses_.push_back(bound);
  } catch (const zmq::error_t& e) {
    return Unavailable("ECCluster listener on " + address + ": " + e.what());
  }
  std::weak_ptr<Endpoint> weak = endpoint;
  EC_ASSIGN_OR_RETURN(endpoint->watcher, msgc::SocketWatcher::Create(base_, socket, [this, weak] {
                        if (auto e = weak.lock()) Drain(e);
                      }));
  endpoints_.push_back(std::move(endpoint));
  return Status::Ok();
}

void ChannelServer::Drain(const std::shared_ptr<Endpoint>& owner) {
  Endpoint& endpoint = *owner;
  try {
    for (int i = 0; i < kMessagesPerWakeup; ++i) {
      if (!msgc::Readable(endpoint.socket)) return;
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(endpoint.socket, std::back_inserter(parts),
                               zmq::recv_flags::dontwait)) {
        return;
      }
      Handle(owner, parts);
    }
    endpoint.watcher->Activate();  // more may be waiting: after other events had a turn
  } catch (const zmq::error_t& e) {
    if (e.num() != ETERM)
      Log(std::string("eccluster: event=receive_error error=\"") + e.what() + "\"");
  }
}

void ChannelServer::Handle(const std::shared_ptr<Endpoint>& endpoint,
                           std::vector<zmq::message_t>& parts) {
  std::vector<std::string_view> frames;
  for (size_t i = 1; i < parts.size(); ++i) frames.push_back(parts[i].to_string_view());
  auto request = DecodeRequest(frames);
  if (!request.ok() || parts.size() < 2) {
    ++stats_.malformed;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_malformed_log_ >= kMalformedLogInterval) {
      last_malformed_log_ = now;
      Log("eccluster: event=request_dropped peer=" +
          (parts.size() > 1 ? Meta(parts[1], "Peer-Address") : std::string("-")) +
          " dropped=" + std::to_string(stats_.malformed) + " reason=\"" +
          (request.ok() ? std::string("empty") : request.status().message()) + "\"");
    }
    return;
  }
  // With CURVE the node is the one whose key completed the handshake (ZAP User-Id); without,
  // the one the client names: the bus's trust in that mode, and no more.
  const std::string node = curve() ? Meta(parts[1], "User-Id") : request->node;
  const uint64_t id = request->id;
  std::weak_ptr<Endpoint> weak = endpoint;
  auto sink = [weak, routing = parts[0].to_string(), id](control::Response response) {
    std::shared_ptr<Endpoint> e = weak.lock();
    if (!e) return;  // the server is gone
    --e->in_flight;
    std::vector<std::string> frames = EncodeReply({id, std::move(response)});
    frames.insert(frames.begin(), routing);
    try {
      // ROUTER drops what it cannot route (the client left): nothing to do then.
      (void)SendFrames(e->socket, frames);
    } catch (const zmq::error_t&) {
    }
    e->watcher->Activate();  // ZMQ_FD is edge-triggered: a send may hide a pending read
  };
  ++endpoint->in_flight;
  control::Reply reply(std::move(sink));
  if (endpoint->in_flight > kMaxInFlight) {
    ++stats_.busy;
    return reply.Error("busy: too many requests in flight");
  }
  auto match = commands_.Find(request->line);
  if (!match) {
    ++stats_.unknown;
    return reply.Error("unknown command");
  }
  ++stats_.requests;
  match->request.peer = Meta(parts[1], "Peer-Address");
  match->request.principal = node.empty() ? "" : "msgc:" + node;
  (*match->handler)(match->request, std::move(reply));
}

Status ChannelServer::SetPeerKeys(const std::map<std::string, std::string>& public_keys) {
  if (!zap_) return FailedPrecondition("eccluster: no CURVE, no keys to set");
  return zap_->SetKeys(public_keys);
}

std::map<std::string, std::string> ChannelServer::MemberKeys(
    const std::vector<std::string>& members) const {
  return msgc::ReadMemberKeys(options_.curve.public_key_dir, members,
                              [this](std::string_view line) { Log(std::string(line)); },
                              "eccluster");
}

Status ChannelServer::ReloadPeers(const std::vector<std::string>& members) {
  options_.peers = members;
  if (!zap_) return Status::Ok();  // without CURVE the stated name is believed anyway
  return SetPeerKeys(MemberKeys(members));
}

ChannelStats ChannelServer::stats() const {
  ChannelStats s = stats_;
  if (zap_) {
    s.keys_accepted = zap_->accepted();
    s.keys_refused = zap_->refused();
  }
  return s;
}

}  // namespace ec::eccluster
