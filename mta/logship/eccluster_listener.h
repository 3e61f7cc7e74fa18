// EcclusterListener: the node's `ECCluster_Listener { Listen "*:4802" { } }`: an ECCluster
// channel server (eccluster/channel_server.h: ZeroMQ, CURVE with the bus keys) on each Listen
// address that answers only the log-shipping commands of JournalService, and those only to the
// members in the manager role (cluster { control_peers }); ecmta adds #mmove's commands for bus
// members (RegisterCommands). Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/event/event_base.h"
#include "eccluster/channel_server.h"
#include "msgc/bus_config.h"
#include "mta/logship/journal_service.h"
#include "mta/logship/log_journals.h"

namespace ec::logship {

inline constexpr int kDefaultEcclusterPort = 4802;

class EcclusterListener {
 public:
  // Null (and OK) when the config has no ECCluster_Listener. `bus`: this node's bus settings
  // (keys, members, control_peers); null when it has no cluster bus, which the listener needs.
  static Result<std::unique_ptr<EcclusterListener>> Start(event::EventBase& base,
                                                          const config::Config& config,
                                                          LogJournals& journals,
                                                          const msgc::BusConfig* bus);
  JournalService& service() { return *service_; }
  // Another service on the same channel (#mmove's MoveService, mta/mmove/receiver.h): `add`
  // registers its commands in each server's registry. The service must outlive the servers.
  void RegisterCommands(const std::function<void(control::CommandRegistry&)>& add);
  // Config reload: the managers (control_peers) and the members' keys as the reloaded bus
  // has them, for requests and handshakes from now on.
  Status Reload(const msgc::BusConfig& bus);
  // The bound addresses ("127.0.0.2:4802"), for logs and tests.
  std::vector<std::string> addresses() const;
  eccluster::ChannelStats stats() const;

 private:
  EcclusterListener() = default;
  std::unique_ptr<JournalService> service_;
  // Destroyed before the service, whose last replies (to pending reads) then go nowhere.
  std::vector<std::unique_ptr<eccluster::ChannelServer>> servers_;
};

}  // namespace ec::logship
