// ChannelServer: the node side of the ECCluster channel (frames.h): one ZeroMQ ROUTER per
// Listen address, CURVE server with this host's bus key pair, and a ZAP handler of its own that
// admits exactly the configured members' public keys and names the node each key belongs to.
// Each request's authenticated node becomes control::Request::principal "msgc:<node>" and the
// request is dispatched through commands(); handlers answer through the Reply, now or later.
// Without CURVE (msgc_server { curve = false }: development and tests only) the NULL mechanism
// is used and the node name the client states is believed, as on the bus in that mode.
// Owns its zmq context, sockets and ZAP handler. Loop thread only: handlers must answer on it.
#pragma once

#include <event2/event.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/base/status.h"
#include "common/control/commands.h"
#include "msgc/bus_options.h"
#include "msgc/zap_handler.h"

namespace ec::eccluster {

inline constexpr const char* kZapDomain = "ec_eccluster";

struct ChannelServerOptions {
  std::vector<std::string> listen;  // "0.0.0.0:4802", "127.0.0.2:0" (any port)
  // This host's key pair and the directory of `<node>.pub`; !curve.enabled(): NULL mechanism.
  msgc::CurveOptions curve;
  std::vector<std::string> peers;  // the members whose keys may connect (msgc_server peers)
  msgc::LogFn log;                 // default: stderr
};

struct ChannelStats {
  uint64_t requests = 0;                         // dispatched to a handler
  uint64_t malformed = 0;                        // frames that are not ecc1 requests, dropped
  uint64_t unknown = 0;                          // commands nobody registered
  uint64_t busy = 0;                             // refused: too many unanswered requests
  uint64_t keys_accepted = 0, keys_refused = 0;  // CURVE handshakes (ZAP)
};

class ChannelServer {
 public:
  static Result<std::unique_ptr<ChannelServer>> Start(event_base* base,
                                                      ChannelServerOptions options);
  ~ChannelServer();
  ChannelServer(const ChannelServer&) = delete;
  ChannelServer& operator=(const ChannelServer&) = delete;

  control::CommandRegistry& commands() { return commands_; }
  // The bound addresses ("127.0.0.2:4802"), for logs and tests.
  const std::vector<std::string>& addresses() const { return addresses_; }
  ChannelStats stats() const;
  // New member keys (node name -> Z85 public key) for handshakes from now on (bus key reload);
  // connections already up stay. FailedPrecondition without CURVE.
  Status SetPeerKeys(const std::map<std::string, std::string>& public_keys);
  // The bus's members changed (config reload): re-reads their committed keys, so an added or
  // re-keyed manager can connect and a removed one cannot, from the next handshake on.
  Status ReloadPeers(const std::vector<std::string>& members);
  bool curve() const { return options_.curve.enabled(); }

 private:
  struct Endpoint;
  ChannelServer(event_base* base, ChannelServerOptions options);
  Status Listen(const std::string& address, const std::string& secret_key);
  std::map<std::string, std::string> MemberKeys(const std::vector<std::string>& members) const;
  void Drain(const std::shared_ptr<Endpoint>& endpoint);
  void Handle(const std::shared_ptr<Endpoint>& endpoint, std::vector<zmq::message_t>& parts);
  void Log(const std::string& line) const;

  event_base* base_;
  ChannelServerOptions options_;
  control::CommandRegistry commands_;
  std::vector<std::string> addresses_;
  ChannelStats stats_;
  std::chrono::steady_clock::time_point last_malformed_log_{};
  // Declared in destruction order's reverse: sockets and the ZAP handler go before the context.
  zmq::context_t context_;
  std::unique_ptr<msgc::ZapHandler> zap_;
  std::vector<std::shared_ptr<Endpoint>> endpoints_;
};

// "*:4802" and ":4802" mean every IPv4 address.
std::string ListenAddressForBind(const std::string& name);

}  // namespace ec::eccluster
