#include "manager/logs/logs_config.h"

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

Result<std::optional<CollectorSetup>> CollectorSetupFromConfig(
    const config::Config& config, const std::map<std::string, std::string>& peers,
    const std::string& self, const std::string& state_dir) {
  auto scopes = config.root.Children("logs");
  if (scopes.empty()) return std::optional<CollectorSetup>();
  const config::Scope& logs = *scopes.front();
  CollectorSetup setup;
  std::string logfile = "/opt/ecmta/log/eccluster/" + std::string(kDefaultLogfilePattern);
  int64_t port = 4802;
  if (const config::Option* o = logs.FindOption("logfile")) {
    EC_ASSIGN_OR_RETURN(logfile, o->value.AsString());
  }
  if (const config::Option* o = logs.FindOption("eccluster_port")) {
    EC_ASSIGN_OR_RETURN(port, o->value.AsInt());
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
  for (const auto& [name, address] : peers) {
    if (name == self) continue;
    std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
    setup.nodes.push_back({name, host + ":" + std::to_string(port)});
  }
  return std::optional<CollectorSetup>(std::move(setup));
}

}  // namespace ec::logcollect
