// ChannelClient: the manager side of the ECCluster channel (frames.h): a blocking
// request/reply client for one thread (a log puller), over a ZeroMQ DEALER that is a CURVE
// client with this host's bus key pair and pins the node's public key. Without a key file it
// uses the NULL mechanism and only states its name (development mode, see channel_server.h).
// A request that gets no reply in time (node down, or it refused our key: CURVE refusals are
// silent) fails with kDeadlineExceeded and the socket is rebuilt, so a late reply is never
// taken for the next request's. One thread per client; clients may share one zmq context.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "common/base/status.h"
#include "common/control/protocol.h"
#include "msgc/bus_options.h"

namespace ec::eccluster {

struct ChannelClientOptions {
  std::string endpoint;  // the node's ECCluster listener, "127.0.0.2:4802"
  std::string self;      // our node name, stated in every request
  // Our key pair (msgc/curve_keys.h); empty: no CURVE (NULL mechanism).
  std::string secret_key_file;
  std::string server_public_key;  // Z85; needed with CURVE
  // How long a request waits for the connection (and its handshake) before giving up.
  std::chrono::milliseconds connect_timeout{2000};
  // Shared by the clients of one process (a context per client would cost a thread each).
  std::shared_ptr<zmq::context_t> context;
};

// Options to reach `node` at `endpoint` as `self` with the bus keys in `curve`: the node's
// public key is read from `<curve.public_key_dir>/<node>.pub`.
Result<ChannelClientOptions> ClientOptionsFor(const msgc::CurveOptions& curve,
                                              const std::string& self, const std::string& node,
                                              const std::string& endpoint);

class ChannelClient {
 public:
  // Checks the keys and starts connecting; fails only on bad options, never on a peer down.
  static Result<std::unique_ptr<ChannelClient>> Create(ChannelClientOptions options);
  ~ChannelClient();
  ChannelClient(const ChannelClient&) = delete;
  ChannelClient& operator=(const ChannelClient&) = delete;

  // One command line and its reply (ok or error text from the node). Errors: the line is not
  // sendable (kInvalidArgument), nothing came back in `timeout` (kDeadlineExceeded), or the
  // peer does not speak ecc1 (kInvalidArgument); after the latter two the socket is rebuilt.
  Result<control::Response> Send(std::string_view line, std::chrono::milliseconds timeout);

 private:
  explicit ChannelClient(ChannelClientOptions options) : options_(std::move(options)) {}
  Status Connect();

  ChannelClientOptions options_;
  std::string public_key_, secret_key_, server_key_;  // binary, when CURVE is on
  uint64_t next_id_ = 1;
  std::unique_ptr<zmq::socket_t> socket_;  // after the context in options_: closed first
};

}  // namespace ec::eccluster
