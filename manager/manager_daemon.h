// ManagerDaemon: one running eccmgr. Loads eccluster.conf (which includes msgc_server.conf),
// joins the cluster bus, keeps the health view of every member, serves the console (`show
// cluster membership`, `broadcast`, `unicast`, `retrieve`, `retrieve_node`, `show cluster
// health`, `info`, `version`, `shutdown`) on its control socket and /health + /metrics over
// HTTP; on the cluster group it also watches the cluster-wide limits (SharedView, in
// /metrics). Owned by main(); everything runs on one libevent loop.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
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
#include "manager/console_fanout.h"
#include "manager/dashboard/history.h"
#include "manager/health_view.h"
#include "manager/http_status.h"
#include "manager/shared_view.h"
#include "manager/logs/collector.h"
#include "manager/logs/logs_config.h"
#include "msgc/bus.h"
#include "msgc/bus_config.h"

namespace ec::manager {

struct ManagerDaemonOptions {
  std::string config_path = "eccluster.conf";  // found through the search path when relative
  std::string root = "/opt/ecmta";
  std::string node_name;
  std::vector<std::string> search_path;
  std::string http_address;  // overrides status_http_listen when set; "off" disables
};

class ManagerDaemon {
 public:
  static Result<std::unique_ptr<ManagerDaemon>> Create(ManagerDaemonOptions options);
  ~ManagerDaemon();

  Status Run();
  void BeginShutdown();

 private:
  explicit ManagerDaemon(ManagerDaemonOptions options);
  Status Start();
  Status StartLogCollection(const std::string& self);
  // Pulls `node`'s logs if it is an MTA node (it joined the control group: ecconfigd and other
  // managers never do) and the Logs scopes give it a subscriber; stops otherwise.
  void CollectLogsOf(const std::string& node, const msgc::View& view);
  // After a reload: a new log root, pattern or port restarts the collection; otherwise each
  // node follows its Manager/Node scopes (only the nodes whose subscribers changed restart).
  void ReloadLogCollection();
  // After a reload: a changed status_http_listen moves the HTTP listener (the old one stays if
  // the new address cannot be bound); a changed status_http_web_root alone serves the new files.
  void ReloadHttp();
  // status_http_web_root, or the files the package installs when unset.
  Result<std::string> WebRoot(const config::Config& config) const;
  // `config reload` and SIGHUP: re-reads the config file; the bus follows its peers and keys,
  // removed members leave the health view and fan-out, the log pullers follow the peer list.
  Status Reload();
  Status OpenControl(const config::Config& config);
  Status OpenHttp(const config::Config& config);
  void RegisterCommands();
  void OnMembership(const msgc::MembershipEvent& event, const msgc::View& view);
  void OnHealth(const msgc::Message& message);
  // The cluster group: shared-limits reports go to shared_; DuraVIP's traffic is not ours.
  void OnCluster(const msgc::Message& message);
  // Asks a member for its record now (it just came alive), retrying while its link comes up.
  void FetchHealth(const std::string& peer, int attempts_left);
  void ReportHealth();
  msgc::HealthRecord SelfHealth() const;
  std::string Info() const;

  const ManagerDaemonOptions options_;
  const daemon::RootLayout layout_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<daemon::DaemonSignals> signals_;
  std::unique_ptr<daemon::PidFile> pid_file_;
  std::shared_ptr<const config::Config> config_;
  msgc::BusConfig bus_config_;
  std::unique_ptr<msgc::Bus> bus_;
  std::unique_ptr<HealthView> health_;
  dashboard::History history_;  // the dashboard's charts
  std::unique_ptr<SharedView> shared_;
  std::string cluster_group_;
  std::unique_ptr<ConsoleFanout> fanout_;
  std::unique_ptr<control::Server> control_;
  std::unique_ptr<StatusHttpServer> http_;
  std::string http_listen_;  // the address http_ was opened for ("off": none)
  std::unique_ptr<logcollect::Collector> log_collector_;  // when the config has Logs { }
  std::optional<logcollect::CollectorSetup> log_setup_;    // what Logs { } said last
  std::string log_root_, log_pattern_;
  std::unique_ptr<event::Timer> health_timer_;
  std::map<std::string, std::unique_ptr<event::Timer>> fetch_timers_;  // FetchHealth retries
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::chrono::steady_clock::time_point started_;
  uint64_t health_rejected_ = 0;
  bool stopping_ = false;
};

}  // namespace ec::manager
