// MtaDaemon: one running ecmta. Loads the configuration (search path, node name), opens the
// spool (re-queueing everything found there), the Momentum-style logs, the ESMTP listener and
// the control socket, and runs them on one libevent loop. `config reload` (or the console)
// builds a new snapshot and swaps it in; a broken config changes nothing and says why.
// SIGTERM/SIGINT or `shutdown` stop accepting, let messages being stored finish, tell idle
// sessions 421, and return from Run(). Owned by main(); everything runs on the loop thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/control/server.h"
#include "common/daemon/pid_file.h"
#include "common/daemon/root_layout.h"
#include "common/daemon/signals.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "mta/cluster/cluster_module.h"
#include "mta/cluster/shared_limits.h"
#include "mta/cluster/shared_replication.h"
#include "mta/dns/dns_resolver.h"
#include "mta/logs/mta_logs.h"
#include "mta/logship/eccluster_listener.h"
#include "mta/logship/log_journals.h"
#include "mta/mmove/mover.h"
#include "mta/mmove/receiver.h"
#include "mta/outbound/scheduler.h"
#include "mta/server/esmtp_listener.h"
#include "mta/server/inbound_context.h"
#include "mta/spool/spool.h"

namespace ec::mta {

struct MtaDaemonOptions {
  std::string config_path;  // ecelerity.conf (found through the search path when relative)
  std::string root = "/opt/ecmta";
  std::string node_name;
  std::vector<std::string> search_path;  // explicit; else EC_CONF_SEARCH_PATH; else default
  std::chrono::milliseconds shutdown_grace{10000};  // how long sessions may take to finish
};

class MtaDaemon {
 public:
  static Result<std::unique_ptr<MtaDaemon>> Create(MtaDaemonOptions options);
  ~MtaDaemon();

  // Runs until shutdown; then drains (bounded by shutdown_grace) and returns.
  Status Run();
  // Loads the config again and swaps it in; on error the running config stays.
  Status Reload();
  void BeginShutdown();
  // The text of the console's `summary`.
  std::string Summary() const;

 private:
  explicit MtaDaemon(MtaDaemonOptions options);
  Status Start();
  Result<std::shared_ptr<const config::Config>> LoadConfig() const;
  Status OpenLogs(const config::Config& config);
  Status OpenControl(const config::Config& config);
  Status StartOutbound();
  // As root: binds the SMTP listeners, forks the DuraVIP keeper, then becomes Security's
  // user. Before any thread exists.
  Status BindAndDropPrivileges();
  // The cluster module's DuraVIP plumbing: the keeper forked before the drop.
  Result<std::unique_ptr<cluster::VipPlumbing>> TakeKeeperPlumbing();
  void RegisterCommands();
  // After the ECCluster listener and the cluster module: serves and starts moving mail.
  Status StartMmove();
  // A path option: its setting if the operator gave one, else `fallback` under our root.
  std::string PathOption(const config::Config& config, const char* option,
                         const std::string& fallback) const;

  const MtaDaemonOptions options_;
  const daemon::RootLayout layout_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<daemon::DaemonSignals> signals_;
  std::unique_ptr<daemon::PidFile> pid_file_;
  std::shared_ptr<const config::Config> config_;
  InboundStats stats_;
  InboundServices services_;
  std::unique_ptr<logship::LogJournals> journals_;  // cluster:// logger outputs
  std::unique_ptr<MtaLogs> logs_;
  std::unique_ptr<spool::Spool> spool_;
  std::unique_ptr<EsmtpListener> listener_;
  std::unique_ptr<control::Server> control_;
  std::unique_ptr<dns::Resolver> resolver_;            // outbound DNS (MX/A)
  // Cluster-wide limits (cluster_* options): the scheduler asks limits_; replication_ shares
  // them with the other nodes over cluster_'s bus (or leads alone without one).
  std::unique_ptr<cluster::SharedLimits> limits_;
  std::unique_ptr<cluster::SharedReplication> replication_;
  std::unique_ptr<outbound::Scheduler> scheduler_;   // outbound delivery
  std::unique_ptr<cluster::ClusterModule> cluster_;  // when msgc_server has peers
  std::unique_ptr<logship::EcclusterListener> eccluster_;  // journals for the manager
  // #mmove (docs/mmove.md), with an ECCluster listener and a cluster bus: mail moved in
  // (receiver_, opened before the spool's recovery) and held DuraVIP mail moved out (mover_).
  std::unique_ptr<mmove::Receiver> mmove_receiver_;
  std::unique_ptr<mmove::Mover> mmove_mover_;
  std::unique_ptr<event::Timer> heartbeat_;
  std::unique_ptr<cluster::VipPlumbing> keeper_plumbing_;  // until the cluster module takes it
  std::chrono::steady_clock::time_point started_;
  uint64_t reloads_ = 0;
  bool stopping_ = false;
  bool dropped_root_ = false;  // started as root, now Security's user
};

}  // namespace ec::mta
