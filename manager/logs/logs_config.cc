#include "manager/logs/logs_config.h"

#include "manager/logs/subscriptions.h"

namespace ec::logcollect {

Result<std::pair<std::string, std::string>> SplitLogfile(const std::string& logfile) {
  size_t first = logfile.find('%');
  size_t slash = logfile.rfind('/', first == std::string::npos ? logfile.size() : first);
  if (logfile.empty() || logfile.front() != '/' || first == std::string::npos ||
      slash == std::string::npos || slash == 0) {
    return InvalidArgument("logfile \"" + logfile +
                           "\": expected an absolute directory followed by a pattern with %{n}, "
                           "e.g. /var/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}");
  }
  std::string pattern = logfile.substr(slash + 1);
  if (pattern.find("%{n}") == std::string::npos || pattern.find("%{l}") == std::string::npos) {
    return InvalidArgument("logfile \"" + logfile +
                           "\": the pattern must contain %{l} and %{n}, or logs of different "
                           "nodes would share a file");
  }
  return std::make_pair(logfile.substr(0, slash), pattern);
}

Result<std::optional<CollectorSetup>> CollectorSetupFromConfig(const config::Config& config,
                                                               const std::string& self,
                                                               const std::string& state_dir) {
  auto scopes = config.root.Children("logs");
  if (scopes.empty()) return std::optional<CollectorSetup>();
  const config::Scope& logs = *scopes.front();
  CollectorSetup setup;
  std::string logfile = "/opt/ecmta/log/eccluster/" + std::string(kDefaultLogfilePattern);
  if (const config::Option* o = logs.FindOption("logfile")) {
    EC_ASSIGN_OR_RETURN(logfile, o->value.AsString());
  }
  if (const config::Option* o = logs.FindOption("eccluster_port")) {
    EC_ASSIGN_OR_RETURN(setup.port, o->value.AsInt());
  }
  auto split = SplitLogfile(logfile);
  if (!split.ok()) {
    const config::Option* o = logs.FindOption("logfile");
    return o ? split.status().WithContext(o->location.ToString()) : split.status();
  }
  setup.options.log_root = split->first;
  setup.options.pattern = split->second;
  setup.options.state_dir = state_dir;
  setup.options.self = self;
  return std::optional<CollectorSetup>(std::move(setup));
}

Result<std::optional<CollectorNode>> CollectorNodeFor(
    const config::Config& config, const CollectorSetup& setup,
    const std::map<std::string, std::string>& peers, const std::string& node,
    const std::string& subcluster) {
  auto peer = peers.find(node);
  if (node == setup.options.self || peer == peers.end()) return std::optional<CollectorNode>();
  EC_ASSIGN_OR_RETURN(std::vector<std::string> subscribers,
                      SubscribersFor(config, setup.options.self, node));
  if (subscribers.empty()) return std::optional<CollectorNode>();
  const std::string& address = peer->second;
  std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  return std::optional<CollectorNode>(CollectorNode{.name = node,
                                                    .endpoint = host + ":" + std::to_string(setup.port),
                                                    .subcluster = subcluster,
                                                    .subscribers = std::move(subscribers)});
}

}  // namespace ec::logcollect
