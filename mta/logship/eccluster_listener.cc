#include "mta/logship/eccluster_listener.h"

#include "common/config/resolve.h"
#include "common/log/logger.h"

namespace ec::logship {

Result<std::unique_ptr<EcclusterListener>> EcclusterListener::Start(event::EventBase& base,
                                                                    const config::Config& config,
                                                                    LogJournals& journals,
                                                                    const msgc::BusConfig* bus) {
  auto scopes = config.root.Children("eccluster_listener");
  if (scopes.empty()) return std::unique_ptr<EcclusterListener>();
  if (!bus) {
    return FailedPrecondition(scopes.front()->location.ToString() +
                              ": ECCluster_Listener needs the cluster bus (msgc_server peers): "
                              "its requests are authenticated with the bus keys");
  }
  std::unique_ptr<EcclusterListener> l(new EcclusterListener());
  l->service_ = std::make_unique<JournalService>(base, journals.journals(), &journals.mutex());
  l->service_->SetManagers(bus->control_peers);
  std::vector<std::string> members;
  for (const auto& [name, address] : bus->bus.peers) members.push_back(name);
  for (const config::Scope* scope : scopes) {
    for (const config::Scope* listen : scope->Children("listen")) {
      // `enable = false` on the Listen or the ECCluster_Listener: not opened.
      bool enabled = true;
      EC_RETURN_IF_ERROR(ec::config::Optional(
          ec::config::EvalBool(config, {.listener = "eccluster_listener",
                                    .listen = listen->name.value_or("")}, "enable"),
          &enabled));
      if (!enabled) continue;
      eccluster::ChannelServerOptions o{
          .listen = {listen->name.value_or("")},
          .curve = bus->bus.curve,
          .peers = members,
          .log = [](std::string_view line) {
            log::Logger::Global().Emit(log::Level::kWarn, "msg=\"eccluster\" " + std::string(line));
          }};
      auto server = eccluster::ChannelServer::Start(base.get(), std::move(o));
      if (!server.ok()) {
        return server.status().WithContext(listen->location.ToString() +
                                           ": ECCluster_Listener Listen \"" +
                                           listen->name.value_or("") + "\"");
      }
      l->service_->RegisterCommands((*server)->commands());
      l->servers_.push_back(std::move(*server));
    }
  }
  return l;
}

Status EcclusterListener::Reload(const msgc::BusConfig& bus) {
  service_->SetManagers(bus.control_peers);
  std::vector<std::string> members;
  for (const auto& [name, address] : bus.bus.peers) members.push_back(name);
  for (auto& server : servers_) EC_RETURN_IF_ERROR(server->ReloadPeers(members));
  return Status::Ok();
}

void EcclusterListener::RegisterCommands(
    const std::function<void(control::CommandRegistry&)>& add) {
  for (auto& server : servers_) add(server->commands());
}

std::vector<std::string> EcclusterListener::addresses() const {
  std::vector<std::string> out;
  for (const auto& s : servers_)
    out.insert(out.end(), s->addresses().begin(), s->addresses().end());
  return out;
}

eccluster::ChannelStats EcclusterListener::stats() const {
  eccluster::ChannelStats total;
  for (const auto& s : servers_) {
    eccluster::ChannelStats one = s->stats();
    total.requests += one.requests;
    total.malformed += one.malformed;
    total.unknown += one.unknown;
    total.busy += one.busy;
    total.keys_accepted += one.keys_accepted;
    total.keys_refused += one.keys_refused;
  }
  return total;
}

}  // namespace ec::logship
