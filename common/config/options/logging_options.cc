// Logging options: ec_logger and bounce_logger instances on nodes, and the manager's Logs,
// Manager and Node scopes (eccluster.conf).
#include "common/config/schema.h"

namespace ec::config {

void RegisterLoggingOptions(SchemaRegistry* r) {
  using T = OptionType;
  using S = Support;
  auto add = [r](OptionSpec s) { r->AddOption(std::move(s)); };
  const std::vector<std::string> kLogger = {"ec_logger"};

  for (const char* log : {"mainlog", "rejectlog", "paniclog", "acctlog"}) {
    std::string name = log;
    add({.name = name,
         .type = T::kString,
         .scopes = kLogger,
         .reloadable = false,  // opened once (MtaDaemon::OpenLogs); reopen logs keeps the path
         .doc = "Where the " + name + " goes: a path, or cluster:///path=>subscriber",
         .support = S::kImplemented});
    add({.name = name + "_mode",
         .type = T::kOctal,
         .default_text = "0644",
         .scopes = kLogger,
         .doc = "Mode of a new " + name + " file",
         .support = S::kPlanned});
  }
  add({.name = "heartbeat",
       .type = T::kSeconds,
       .default_text = "60",
       .scopes = kLogger,
       .doc = "mainlog/rejectlog marker period; 0 = none",
       .support = S::kPlanned});
  for (const char* what : {"receptions", "deliveries", "transient_failures", "permanent_failures",
                           "rejections", "errors"}) {
    add({.name = std::string("log_") + what,
         .type = T::kBool,
         .default_text = "true",
         .scopes = kLogger,
         .doc = std::string("Write ") + what + " to the logs",
         .support = S::kPlanned});
  }
  add({.name = "bouncelog",
       .type = T::kString,
       .scopes = {"bounce_logger"},
       .reloadable = false,
       .doc = "Where classified bounces go: a path or cluster:///path=>subscriber",
       .support = S::kImplemented});
  add({.name = "bouncelog_mode",
       .type = T::kOctal,
       .default_text = "0644",
       .scopes = {"bounce_logger"},
       .doc = "Mode of a new bouncelog file"});

  // Logs { } on the manager.
  const std::vector<std::string> kLogs = {"logs"};
  add({.name = "logfile",
       .type = T::kString,
       .default_text = "\"/opt/ecmta/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}\"",
       .scopes = kLogs,
       .doc = "Aggregated log path: strftime, %{l} log, %{s} subcluster, %{n} node",
       .support = S::kImplemented});
  add({.name = "file_mode",
       .type = T::kOctal,
       .default_text = "0640",
       .scopes = kLogs,
       .doc = "Mode of created log files",
       .support = S::kPlanned});
  add({.name = "dir_mode",
       .type = T::kOctal,
       .default_text = "0755",
       .scopes = kLogs,
       .doc = "Mode of created log directories",
       .support = S::kPlanned});
  add({.name = "max_idle",
       .type = T::kSeconds,
       .scopes = kLogs,
       .doc = "Close a log file idle this long"});
  add({.name = "max_open",
       .type = T::kInt,
       .scopes = kLogs,
       .min = 1,
       .doc = "Cap on open log files"});
  add({.name = "control_cache",
       .type = T::kPath,
       .scopes = kLogs,
       .doc = "Cache file of asynchronous cluster-wide query replies"});
  // ecmta extensions: where eccmgr reaches each node's ECCluster_Listener (the node address
  // comes from msgc_server's peers), and how much disk a node's journals may hold while the
  // manager is away.
  add({.name = "eccluster_port",
       .type = T::kInt,
       .default_text = "4802",
       .scopes = kLogs,
       .min = 1,
       .max = 65535,
       .doc = "Port of the nodes' ECCluster_Listener that eccmgr pulls journals from "
              "(ecmta extension)",
       .support = S::kImplemented});
  add({.name = "log_journal_max_size",
       .type = T::kBytes,
       .default_text = "256M",
       .scopes = {"cluster"},
       .reloadable = false,  // the journals are opened once (MtaDaemon::OpenLogs)
       .min = 0,
       .doc = "Disk bound of each log journal; past it the oldest unread lines are dropped and "
              "reported (ecmta extension)",
       .support = S::kImplemented});
  // Momentum: a Node's list; a Manager's applies to all its nodes (ecmta extension). Unset:
  // the manager's own name, then "master". ( ) pulls nothing from that node.
  add({.name = "subscriber",
       .type = T::kList,
       .scopes = {"manager", "node"},
       .doc = "Journal subscribers this manager reads, first one the node has; ( ) = none",
       .support = S::kImplemented});
}

}  // namespace ec::config
