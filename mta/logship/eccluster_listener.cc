#include "mta/logship/eccluster_listener.h"

namespace ec::logship {

std::string ListenAddressForBind(const std::string& name) {
  if (name.rfind("*:", 0) == 0) return "0.0.0.0" + name.substr(1);
  if (name.rfind(':', 0) == 0) return "0.0.0.0" + name;
  return name;
}

Result<std::unique_ptr<EcclusterListener>> EcclusterListener::Start(event::EventBase& base,
                                                                    const config::Config& config,
                                                                    LogJournals& journals) {
  auto scopes = config.root.Children("eccluster_listener");
  if (scopes.empty()) return std::unique_ptr<EcclusterListener>();
  std::unique_ptr<EcclusterListener> l(new EcclusterListener());
  l->service_ = std::make_unique<JournalService>(base, journals.journals(), &journals.mutex());
  for (const config::Scope* scope : scopes) {
    for (const config::Scope* listen : scope->Children("listen")) {
      std::string address = ListenAddressForBind(listen->name.value_or(""));
      control::ServerOptions o{.tcp_address = address, .log_commands = false};
      auto server = control::Server::Start(base, std::move(o));
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

std::vector<std::string> EcclusterListener::addresses() const {
  std::vector<std::string> out;
  for (const auto& s : servers_) {
    if (const event::SocketAddress* a = s->tcp_address()) out.push_back(a->ToString());
  }
  return out;
}

}  // namespace ec::logship
