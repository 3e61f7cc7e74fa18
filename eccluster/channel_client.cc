#include "eccluster/channel_client.h"

#include <vector>
#include <zmq_addon.hpp>

#include "eccluster/frames.h"
#include "eccluster/send_frames.h"
#include "msgc/curve_keys.h"

namespace ec::eccluster {

Result<ChannelClientOptions> ClientOptionsFor(const msgc::CurveOptions& curve,
                                              const std::string& self, const std::string& node,
                                              const std::string& endpoint) {
  ChannelClientOptions o{.endpoint = endpoint, .self = self};
  if (curve.enabled()) {
    o.secret_key_file = curve.secret_key_file;
    EC_ASSIGN_OR_RETURN(o.server_public_key,
                        msgc::ReadPublicKeyFile(curve.public_key_dir + "/" + node + ".pub"));
  }
  return o;
}

Result<std::unique_ptr<ChannelClient>> ChannelClient::Create(ChannelClientOptions options) {
  std::unique_ptr<ChannelClient> client(new ChannelClient(std::move(options)));
  ChannelClientOptions& o = client->options_;
  if (!o.context) o.context = std::make_shared<zmq::context_t>(1);
  if (!o.secret_key_file.empty()) {
    EC_ASSIGN_OR_RETURN(msgc::KeyPair pair, msgc::ReadSecretKeyFile(o.secret_key_file));
    EC_ASSIGN_OR_RETURN(client->public_key_, msgc::Z85ToBinary(pair.public_key));
    EC_ASSIGN_OR_RETURN(client->secret_key_, msgc::Z85ToBinary(pair.secret_key));
    auto server = msgc::Z85ToBinary(o.server_public_key);
    if (!server.ok()) return server.status().WithContext("the node's public key");
    client->server_key_ = *server;
  }
  EC_RETURN_IF_ERROR(client->Connect());
  return client;
}

ChannelClient::~ChannelClient() = default;

Status ChannelClient::Connect() {
  socket_.reset();
  try {
    auto socket = std::make_unique<zmq::socket_t>(*options_.context, zmq::socket_type::dealer);
    socket->set(zmq::sockopt::linger, 0);
    socket->set(zmq::sockopt::immediate, 1);  // never queue a request for a node not there
    // A node's reply is one batch: anything far larger is not one of ours.
    socket->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxReplyText + 4096));
    if (!secret_key_.empty()) {
      socket->set(zmq::sockopt::curve_serverkey, zmq::buffer(server_key_));
      socket->set(zmq::sockopt::curve_publickey, zmq::buffer(public_key_));
      socket->set(zmq::sockopt::curve_secretkey, zmq::buffer(secret_key_));
    }
    socket->connect("tcp://" + options_.endpoint);
    socket_ = std::move(socket);
  } catch (const zmq::error_t& e) {
    return InvalidArgument("eccluster: connecting to " + options_.endpoint + ": " + e.what());
  }
  return Status::Ok();
}

Result<control::Response> ChannelClient::Send(std::string_view line,
                                              std::chrono::milliseconds timeout) {
  if (!socket_) EC_RETURN_IF_ERROR(Connect());
  const uint64_t id = next_id_++;
  const std::vector<std::string> request =
      EncodeRequest({.id = id, .node = options_.self, .line = std::string(line)});
  {
    std::vector<std::string_view> check(request.begin(), request.end());
    EC_RETURN_IF_ERROR(DecodeRequest(check).status());  // what the node would refuse
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto wait = [&](short events, std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::milliseconds(0);
    std::vector<zmq::pollitem_t> items = {{socket_->handle(), 0, events, 0}};
    zmq::poll(items, left);
    return (items[0].revents & events) != 0;
  };
  bool sent = false;
  try {
    // With `immediate`, a DEALER is writable only once a connection (and its CURVE handshake)
    // is up: waiting for that is waiting for the node.
    const auto connect_deadline =
        std::min(deadline, std::chrono::steady_clock::now() + options_.connect_timeout);
    while (!sent && std::chrono::steady_clock::now() < connect_deadline) {
      if (wait(ZMQ_POLLOUT, connect_deadline)) {
        sent = SendFrames(*socket_, request);
      }
    }
    while (sent && std::chrono::steady_clock::now() < deadline) {
      if (!wait(ZMQ_POLLIN, deadline)) continue;
      std::vector<zmq::message_t> parts;
      if (!zmq::recv_multipart(*socket_, std::back_inserter(parts), zmq::recv_flags::dontwait)) {
        continue;
      }
      std::vector<std::string_view> frames;
      for (const zmq::message_t& p : parts) frames.push_back(p.to_string_view());
      auto reply = DecodeReply(frames);
      if (!reply.ok()) {
        socket_.reset();
        return reply.status().WithContext(options_.endpoint);
      }
      if (reply->id != id) continue;  // the late answer to a request we gave up on
      return std::move(reply->response);
    }
  } catch (const zmq::error_t& e) {
    socket_.reset();
    return Unavailable("eccluster: " + options_.endpoint + ": " + e.what());
  }
  socket_.reset();
  return Status(StatusCode::kDeadlineExceeded,
                std::string("eccluster: ") + (sent ? "no reply from " : "no connection to ") +
                    options_.endpoint + " in " + std::to_string(timeout.count()) + " ms");
}

}  // namespace ec::eccluster
