// ClusterModule: ecmta's member of the cluster bus (the `cluster` module of Momentum). Built by
// MtaDaemon when the configuration has msgc_server peers. It
//  - joins the bus from global/msgc_server.conf and the groups ec_console (control_group),
//    ec_config and ec_cluster (cluster_group);
//  - answers console commands relayed by eccmgr over control_group by running them through
//    this node's own command registry, exactly as if typed at its console;
//  - registers `cluster membership`, `cluster info`, `cluster nodename`, `cluster health`;
//  - every health_report_interval logs its JSON HealthRecord and shouts it on ec_health (and
//    whispers it at once to a member that just joined ec_health, so a restarted eccmgr learns
//    the cluster quickly);
//  - on an ec_config notice runs `eccfg pull --auto` (ConfigPuller);
//  - when the config has DuraVIPs, runs this node's DuravipModule on cluster_group;
//  - hands cluster-wide limits' messages on cluster_group (and membership events) to the
//    SharedReplication attached to it; what is not theirs goes to DuraVIP.
// Owned by MtaDaemon; loop thread only. It must be destroyed after the control server whose
// registry it registered commands in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/control/accounting.h"
#include "common/control/commands.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "msgc/bus.h"
#include "msgc/bus_config.h"
#include "msgc/health_record.h"
#include "mta/cluster/config_puller.h"
#include "mta/cluster/duravip_module.h"
#include "mta/cluster/shared_replication.h"

namespace ec::mta::cluster {

// Mail counters that go into the health record.
struct NodeCounters {
  uint64_t received = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t queue_size = 0;
};

struct ClusterModuleOptions {
  std::string node_name;  // --node-name; `cluster { nodename }` overrides it
  std::string root;       // runtime root: the default key file is <root>/etc/msgc.key
  control::CommandRegistry* commands = nullptr;  // this node's console commands
  std::function<NodeCounters()> counters;
  // The eccfg binary; empty: `cluster { eccfg_path }`, else `eccfg` beside our executable.
  std::string eccfg_path;
  // DuraVIP: how the listeners and bindings follow the addresses this node holds, and who
  // plumbs them (default: the keeper process, ec_duravip_keeper beside our executable).
  DuravipHooks duravip_hooks;
  std::function<Result<std::unique_ptr<VipPlumbing>>()> make_plumbing;
  // Each relayed console command, allowed (a control peer) or refused, for the acctlog's Z
  // records: listener "msgc:<control group>", user "msgc:<sender>", peer its bus address.
  control::AccountingFn on_accounting;
};

class ClusterModule {
 public:
  static Result<std::unique_ptr<ClusterModule>> Create(event::EventBase& base,
                                                       const config::Config& config,
                                                       ClusterModuleOptions options);
  ~ClusterModule();
  ClusterModule(const ClusterModule&) = delete;
  ClusterModule& operator=(const ClusterModule&) = delete;

  const msgc::Bus& bus() const { return *bus_; }
  // The bus settings it runs with (keys, members, control_peers), for the ECCluster listener.
  const msgc::BusConfig& bus_config() const { return config_; }
  // A reloaded configuration: DuraVIP follows it (started, changed or stopped).
  Status Apply(const config::Config& config);
  // A reloaded configuration: the bus follows its peers and keys (msgc::Bus::Reconfigure) and
  // control_peers are re-read. A change that needs a restart is refused; the old settings stay.
  Status Reload(const config::Config& config);
  const DuravipModule* duravip() const { return duravip_.get(); }
  // Cluster-wide limits report and take grants on our bus (cluster_group) from now on; null
  // detaches. The replication must outlive us or be detached first.
  void AttachReplication(SharedReplication* replication);
  // The health record as it would be sent now.
  msgc::HealthRecord Health() const;

 private:
  ClusterModule(event::EventBase& base, ClusterModuleOptions options);
  Status Start(const config::Config& config);
  void RegisterCommands();
  void OnConsoleRequest(const msgc::Message& request);
  void OnConfigNotice(const msgc::Message& message);
  void ReportHealth();
  Status StartDuravip(const config::Config& config);

  event::EventBase& base_;
  ClusterModuleOptions options_;
  msgc::BusConfig config_;
  std::unique_ptr<msgc::Bus> bus_;
  std::unique_ptr<ConfigPuller> puller_;
  std::unique_ptr<event::Timer> health_timer_;
  std::string cluster_group_ = "ec_cluster";
  std::unique_ptr<DuravipModule> duravip_;  // only when the config has DuraVIPs
  SharedReplication* replication_ = nullptr;  // not owned
  // Replies to relayed commands may come after we are gone; they check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  uint64_t relayed_commands_ = 0;
  std::string config_revision_;  // of the configuration last started or applied
};

// The DuraVIP part of `config`, checked as start and reload would check it: the problems of
// ValidateDuravipConfig (the node's bus address counts as its own), and DuraVIPs without a
// cluster bus to elect their owners. `node_name` as for ClusterModuleOptions.
Status ValidateDuravip(const config::Config& config, const std::string& node_name);

// `eccfg` beside the running executable (/proc/self/exe), or "eccfg" if that cannot be read.
std::string DefaultEccfgPath();

}  // namespace ec::mta::cluster
