#include "mta/daemon/mta_daemon.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "common/config/check.h"
#include "common/config/resolve.h"
#include "common/control/listener_config.h"
#include "common/daemon/readiness.h"
#include "common/daemon/run_as.h"
#include "common/log/logger.h"
#include "msgc/bus_config.h"
#include "mta/logs/console_accounting.h"
#include "mta/mmove/commands.h"
#include "mta/version.h"

namespace ec::mta {
namespace {

std::string SystemHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// A cluster:// (journal) destination belongs to log aggregation, not to the local files.
bool IsLocalPath(const std::string& value) {
  return !value.empty() && value.find("://") == std::string::npos;
}

// The bus members (not self) allowed to move mail here.
std::set<std::string> BusMembers(const msgc::BusConfig& bus) {
  std::set<std::string> out;
  for (const auto& [name, address] : bus.bus.peers) {
    if (name != bus.bus.self) out.insert(name);
  }
  return out;
}

std::string Duration(std::chrono::seconds s) {
  long long t = s.count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld days, %lld hours, %lld minutes, %lld seconds", t / 86400,
                t / 3600 % 24, t / 60 % 60, t % 60);
  return buf;
}

}  // namespace

MtaDaemon::MtaDaemon(MtaDaemonOptions options)
    : options_(std::move(options)), layout_(daemon::RootLayout::FromRoot(options_.root)) {}

MtaDaemon::~MtaDaemon() {
  // Order matters: connections hold pointers into services_, the spool posts to the loop.
  control_.reset();
  mmove_mover_.reset();  // joins its worker; uses the scheduler, spool and logs
  eccluster_.reset();    // its servers dispatch to the mmove receiver
  mmove_receiver_.reset();
  scheduler_.reset();  // its connections and timers live on base_; it uses spool_ and logs_
  resolver_.reset();
  cluster_.reset();  // after control_: its commands live in control_'s registry
  replication_.reset();  // after cluster_, which detaches it from the bus
  services_.throttles = nullptr;  // sessions live on until listener_ goes
  limits_.reset();       // after the scheduler, whose connections hold its leases
  listener_.reset();
  heartbeat_.reset();
  spool_.reset();
  signals_.reset();
}

Result<std::unique_ptr<MtaDaemon>> MtaDaemon::Create(MtaDaemonOptions options) {
  std::unique_ptr<MtaDaemon> d(new MtaDaemon(std::move(options)));
  EC_RETURN_IF_ERROR(d->Start());
  return d;
}

Result<std::shared_ptr<const config::Config>> MtaDaemon::LoadConfig() const {
  config::LoadOptions load;
  load.root = options_.root;
  load.node_name = options_.node_name;
  load.search_path = options_.search_path;
  return config::LoadConfig(options_.config_path, load);
}

std::string MtaDaemon::PathOption(const config::Config& config, const char* option,
                                  const std::string& fallback) const {
  auto r = config::Eval(config, config::DefaultSchema(), config::ScopePath{}, option);
  if (r.ok() && !r->from_default && !r->value.text().empty()) return r->value.text();
  return fallback;
}

Status MtaDaemon::Start() {
  started_ = std::chrono::steady_clock::now();
  EC_ASSIGN_OR_RETURN(config_, LoadConfig());
  EC_RETURN_IF_ERROR(layout_.CreateDirectories());
  EC_ASSIGN_OR_RETURN(base_, event::EventBase::Create());

  std::string pid_path = PathOption(*config_, "pidfile", layout_.PidFile("ecmta").string());
  EC_ASSIGN_OR_RETURN(pid_file_, daemon::PidFile::Acquire(pid_path));
  // Threads start below (spool committer, ZeroMQ): the drop must come first.
  EC_RETURN_IF_ERROR(BindAndDropPrivileges());

  EC_RETURN_IF_ERROR(OpenLogs(*config_));

  spool::SpoolOptions spool_options;
  spool_options.spoolbase = PathOption(*config_, "spoolbase", layout_.spool.string());
  event::EventBase* base = base_.get();
  spool_options.post = [base](std::function<void()> fn) { base->RunInLoop(std::move(fn)); };
  {
    int64_t zero_ahead = 0;
    EC_ASSIGN_OR_RETURN(zero_ahead, config::EvalBytes(*config_, {}, "spool_zero_ahead"));
    spool_options.zero_ahead_bytes = static_cast<uint64_t>(zero_ahead);
  }
  spool_options.keep_routes = true;  // for the scheduler's Recover: envelopes are read once
  spool_options.log = [](std::string_view line) {
    EC_LOG(kInfo, "spool").Field("event", line);
  };
  EC_ASSIGN_OR_RETURN(spool_, spool::Spool::Open(std::move(spool_options)));
  EC_LOG(kInfo, "spool opened").Field("spoolbase", spool_->spoolbase())
      .Field("messages", spool_->size());

  // #mmove: the moved-in record settles its open intents before the scheduler recovers the
  // spool, so nothing is delivered before its intent is settled (docs/mmove.md).
  if (msgc::HasBusConfig(*config_) && !config_->root.Children("eccluster_listener").empty()) {
    EC_ASSIGN_OR_RETURN(mmove_receiver_, mmove::Receiver::Open(*spool_));
  }

  services_.base = base_.get();
  services_.spool = spool_.get();
  services_.logs = logs_.get();
  services_.stats = &stats_;
  services_.node_name = options_.node_name;
  EC_RETURN_IF_ERROR(StartOutbound());
  {
    // DuraVIP bindings wait for an election (cluster module) before they run.
    EC_ASSIGN_OR_RETURN(duravip::DuravipConfig d, duravip::ReadDuravipConfig(*config_));
    std::set<std::string> bindings;
    for (const duravip::VipEntry& e : d.vips) {
      if (e.vip.kind == "binding") bindings.insert(e.vip.name);
    }
    scheduler_->SetHeldBindings(std::move(bindings));
  }

  EC_RETURN_IF_ERROR(OpenControl(*config_));
  RegisterCommands();
  scheduler_->RegisterCommands(&control_->commands());
  replication_->RegisterCommands(&control_->commands());
  if (msgc::HasBusConfig(*config_)) {
    cluster::ClusterModuleOptions cluster;
    cluster.node_name = options_.node_name;
    cluster.root = options_.root;
    cluster.commands = &control_->commands();
    cluster.make_plumbing = [this] { return TakeKeeperPlumbing(); };
    cluster.on_accounting = [this](const control::AccountingEvent& e) {
      if (logs_) LogConsoleAccounting(*logs_, e, std::time(nullptr));
    };
    cluster.duravip_hooks.set_listen_addresses = [this](const std::set<std::string>& managed,
                                                        const std::set<std::string>& held) {
      (void)listener_->SetDuravips(managed, held);
    };
    cluster.duravip_hooks.set_held_bindings = [this](const std::set<std::string>& bindings) {
      if (scheduler_) scheduler_->SetHeldBindings(bindings);
      // The DuraVIP view changed: a binding's queue may go to the address's new holder.
      base_->RunInLoop([this] {
        if (mmove_mover_) mmove_mover_->Round();
      });
    };
    cluster.counters = [this] {
      cluster::NodeCounters c{.received = stats_.messages_received.load(),
                              .queue_size = spool_->size()};
      if (scheduler_) {
        const outbound::SchedulerStats out = scheduler_->stats();
        c.delivered = out.delivered;  // recipients, as in `summary`
        c.failed = out.permanent;
      }
      return c;
    };
    EC_ASSIGN_OR_RETURN(cluster_, cluster::ClusterModule::Create(*base_, *config_, cluster));
    cluster_->AttachReplication(replication_.get());
  }

  EC_ASSIGN_OR_RETURN(eccluster_,
                      logship::EcclusterListener::Start(*base_, *config_, *journals_,
                                                        cluster_ ? &cluster_->bus_config() : nullptr));
  if (eccluster_) {
    (void)control_->commands().RegisterSync(
        "cluster show logs", "each log journal's size and its subscribers' positions",
        [this](const control::Request&) -> Result<std::string> {
          return eccluster_->service().ShowLogs();
        });
    for (const std::string& a : eccluster_->addresses()) {
      EC_LOG(kInfo, "eccluster listening").Field("address", a);
    }
  }
  EC_RETURN_IF_ERROR(StartMmove());

  EC_ASSIGN_OR_RETURN(signals_, daemon::DaemonSignals::Install(
                                    *base_, {.on_stop = [this] { BeginShutdown(); },
                                             .on_reload = [this] {
                                               Status s = log::Logger::Global().Reopen();
                                               if (logs_) s = logs_->Reopen();
                                               EC_LOG(kInfo, "logs reopened").Field("status", s);
                                             }}));
  heartbeat_ = std::make_unique<event::Timer>(*base_, [this] {
    if (logs_) logs_->Heartbeat(std::time(nullptr));
  });
  heartbeat_->StartRepeating(std::chrono::seconds(60));
  EC_LOG(kInfo, "ecmta started").Field("version", VersionString())
      .Field("node", options_.node_name).Field("config", options_.config_path);
  daemon::NotifyReady();  // every listener above is bound and listening
  return Status::Ok();
}

Status MtaDaemon::StartMmove() {
  if (!mmove_receiver_ || !eccluster_ || !cluster_) return Status::Ok();
  const msgc::BusConfig& bus = cluster_->bus_config();
  mmove_receiver_->Start(
      *eccluster_, logs_.get(),
      [this](spool::QueueId id, const spool::Envelope& e) {
        std::vector<std::string> rcpts;
        rcpts.reserve(e.rcpts.size());
        for (const spool::Recipient& r : e.rcpts) rcpts.push_back(r.address);
        if (scheduler_) scheduler_->Add(id, rcpts, {}, {e.binding, e.binding_group});
      },
      BusMembers(bus));
  EC_ASSIGN_OR_RETURN(bool rebind, mmove::UnconditionalRebind(*config_));
  mmove::MoverOptions o{.base = base_.get(),
                        .spool = spool_.get(),
                        .logs = logs_.get(),
                        .scheduler = scheduler_.get(),
                        .self = bus.bus.self,
                        .peers = mmove::PeersFor(bus, eccluster_->addresses()),
                        .unconditional_rebind = rebind};
  o.holders = [this] {
    const cluster::DuravipModule* d = cluster_ ? cluster_->duravip() : nullptr;
    return d ? d->BindingHolders() : std::map<std::string, std::string>();
  };
  o.alive = [this](const std::string& node) { return cluster_ && cluster_->bus().IsAlive(node); };
  EC_ASSIGN_OR_RETURN(mmove_mover_, mmove::Mover::Start(std::move(o)));
  mmove::RegisterMmoveCommands(control_->commands(), *mmove_mover_, *mmove_receiver_);
  return Status::Ok();
}

Status MtaDaemon::BindAndDropPrivileges() {
  // Port 25 needs root (or cap_net_bind_service): bind while we have it.
  services_.base = base_.get();
  listener_ = std::make_unique<EsmtpListener>(services_);
  EC_RETURN_IF_ERROR(cluster::ValidateDuravip(*config_, options_.node_name));
  EC_ASSIGN_OR_RETURN(duravip::DuravipConfig d, duravip::ReadDuravipConfig(*config_));
  // DuraVIP listeners wait for an election (cluster module) before they run.
  const std::vector<std::string> all = d.Addresses();
  (void)listener_->SetDuravips({all.begin(), all.end()}, {});
  EC_ASSIGN_OR_RETURN(auto inbound, InboundConfig::Build(config_, SystemHostname()));
  EC_RETURN_IF_ERROR(listener_->Apply(std::move(inbound)));
  // The keeper adds addresses with netlink: forked now, it keeps root's capabilities.
  if (!d.empty() && msgc::HasBusConfig(*config_)) {
    EC_ASSIGN_OR_RETURN(keeper_plumbing_, cluster::MakeKeeperPlumbing());
  }
  EC_ASSIGN_OR_RETURN(daemon::PrivilegeSpec spec, daemon::PrivilegeSpecFromConfig(*config_));
  const bool was_root = geteuid() == 0;
  EC_RETURN_IF_ERROR(daemon::RunAsConfiguredUser(spec, layout_));
  dropped_root_ = was_root && geteuid() != 0;
  return Status::Ok();
}

Result<std::unique_ptr<cluster::VipPlumbing>> MtaDaemon::TakeKeeperPlumbing() {
  if (keeper_plumbing_) return std::move(keeper_plumbing_);
  // A keeper exec'd now would start with no capabilities at all.
  if (dropped_root_) {
    return FailedPrecondition(
        "DuraVIP was enabled after ecmta dropped root; restart ecmta so the keeper is started "
        "before the drop");
  }
  return cluster::MakeKeeperPlumbing();
}

Status MtaDaemon::OpenLogs(const config::Config& config) {
  MtaLogPaths paths;
  const auto loggers = config.root.Children("ec_logger");
  if (loggers.empty()) {
    // No ec_logger configured: Momentum's usual files under our log directory.
    paths.mainlog = (layout_.log / "mainlog.ec").string();
    paths.rejectlog = (layout_.log / "rejectlog.ec").string();
    paths.paniclog = (layout_.log / "paniclog.ec").string();
  }
  for (const config::Scope* logger : loggers) {
    auto pick = [logger](const char* name, std::string* out) {
      if (const config::Option* o = logger->FindOption(name)) {
        if (IsLocalPath(o->value.text())) *out = o->value.text();
      }
    };
    pick("mainlog", &paths.mainlog);
    pick("rejectlog", &paths.rejectlog);
    pick("paniclog", &paths.paniclog);
    pick("acctlog", &paths.acctlog);
  }
  if (loggers.empty()) paths.bouncelog = (layout_.log / "bouncelog.ec").string();
  for (const config::Scope* logger : config.root.Children("bounce_logger")) {
    if (const config::Option* o = logger->FindOption("bouncelog")) {
      if (IsLocalPath(o->value.text())) paths.bouncelog = o->value.text();
    }
  }
  EC_ASSIGN_OR_RETURN(logs_, MtaLogs::Open(paths));
  EC_ASSIGN_OR_RETURN(auto journal_specs, logship::JournalSpecsFromConfig(config));
  int64_t journal_max = 0;  // the journal's own default
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("log_journal_max_size")) {
      EC_ASSIGN_OR_RETURN(journal_max, o->value.AsBytes());
    }
  }
  EC_ASSIGN_OR_RETURN(journals_, logship::LogJournals::Open(journal_specs,
                                                            static_cast<uint64_t>(journal_max)));
  logs_->SetJournals(journals_.get());
  return Status::Ok();
}

Status MtaDaemon::StartOutbound() {
  EC_ASSIGN_OR_RETURN(auto global, outbound::BuildGlobalOutbound(config_, SystemHostname()));
  EC_ASSIGN_OR_RETURN(resolver_, dns::MakeResolver(*base_, global.resolv_conf,
                                                    global.dns_fallback_to_tcp));
  // Always there (cheap without cluster_* limits), so a reload may add limits.
  EC_RETURN_IF_ERROR(cluster::ValidateClusterLimits(*config_));
  limits_ = std::make_unique<cluster::SharedLimits>(
      config_, cluster::SharedLimitsOptions{.base = base_.get()});
  services_.throttles = limits_.get();  // Shared_Throttle, taken at MAIL FROM
  // With msgc peers the cluster module attaches the bus; until then nobody leads.
  replication_ = std::make_unique<cluster::SharedReplication>(
      *base_, *limits_,
      cluster::SharedReplicationOptions{.self = options_.node_name,
                                        .standalone = !msgc::HasBusConfig(*config_),
                                        .specs = cluster::ReadReplicateScopes(*config_)});
  outbound::SchedulerServices s{.base = base_.get(),
                                .spool = spool_.get(),
                                .logs = logs_.get(),
                                .resolver = resolver_.get(),
                                .limits = limits_.get(),
                                .node_name = options_.node_name};
  scheduler_ = std::make_unique<outbound::Scheduler>(s, config_, std::move(global));
  EC_RETURN_IF_ERROR(scheduler_->Recover());
  services_.on_queued = [this](spool::QueueId id, const std::vector<std::string>& rcpts,
                               const std::string& binding, const std::string& group) {
    if (scheduler_) scheduler_->Add(id, rcpts, {}, {binding, group});
  };
  return Status::Ok();
}

Status MtaDaemon::OpenControl(const config::Config& config) {
  EC_ASSIGN_OR_RETURN(control::ServerOptions options,
                      control::ServerOptionsFromConfig(config, layout_.ConsoleSocket().string()));
  options.version = VersionString();
  // Console logins and commands: Momentum's acctlog N and Z records (logs_ outlives control_).
  options.on_accounting = [this](const control::AccountingEvent& e) {
    if (logs_) LogConsoleAccounting(*logs_, e, std::time(nullptr));
  };
  EC_ASSIGN_OR_RETURN(control_, control::Server::Start(*base_, std::move(options)));
  return Status::Ok();
}

void MtaDaemon::RegisterCommands() {
  auto& commands = control_->commands();
  (void)commands.RegisterSync("summary", "connections, messages and queue of this node",
                              [this](const control::Request&) -> Result<std::string> {
                                return Summary();
                              });
  (void)commands.RegisterSync("config reload", "load the configuration again and swap it in",
                              [this](const control::Request&) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(Reload());
                                return std::string("configuration reloaded");
                              });
  (void)commands.RegisterSync("reopen logs", "reopen mainlog, rejectlog, paniclog (logrotate)",
                              [this](const control::Request&) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(log::Logger::Global().Reopen());
                                if (logs_) EC_RETURN_IF_ERROR(logs_->Reopen());
                                return std::string("logs reopened");
                              });
  (void)commands.RegisterSync("shutdown", "finish sessions in flight and stop",
                              [this](const control::Request&) -> Result<std::string> {
                                BeginShutdown();
                                return std::string("shutting down");
                              });
}

Status MtaDaemon::Reload() {
  daemon::ReloadNotice reloading;
  auto config = LoadConfig();
  if (!config.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", config.status());
    return config.status();
  }
  auto inbound = InboundConfig::Build(*config, SystemHostname());
  if (!inbound.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", inbound.status());
    return inbound.status();
  }
  auto global = outbound::BuildGlobalOutbound(*config, SystemHostname());
  if (!global.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", global.status());
    return global.status();
  }
  if (Status s = cluster::ValidateDuravip(**config, options_.node_name); !s.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", s);
    return s;
  }
  if (Status s = cluster::ValidateClusterLimits(**config); !s.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", s);
    return s;
  }
  auto rebind = mmove::UnconditionalRebind(**config);
  if (!rebind.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", rebind.status());
    return rebind.status();
  }
  // A DuraVIP Listen the reload adds waits for its election, as at start: binding it now
  // would fail (the address is not plumbed here) and refuse the whole reload.
  if (auto d = duravip::ReadDuravipConfig(**config); d.ok()) {
    listener_->AddManagedDuravips(d->Addresses());
  }
  EC_RETURN_IF_ERROR(listener_->Apply(std::move(inbound).value()));
  config_ = std::move(config).value();
  limits_->Apply(config_);
  if (mmove_mover_) mmove_mover_->SetUnconditionalRebind(rebind.value());
  replication_->SetSpecs(cluster::ReadReplicateScopes(*config_));
  scheduler_->Apply(config_, std::move(global).value());
  Status bus = Status::Ok();  // msgc peers and keys; refused alone, the rest still applies
  if (cluster_) {
    bus = cluster_->Reload(*config_);
    if (!bus.ok()) EC_LOG(kError, "msgc reload refused").Field("error", bus);
    if (bus.ok() && eccluster_) bus = eccluster_->Reload(cluster_->bus_config());
    if (bus.ok() && mmove_receiver_) {
      mmove_receiver_->SetMembers(BusMembers(cluster_->bus_config()));
    }
    if (bus.ok() && mmove_mover_) {
      mmove_mover_->SetPeers(mmove::PeersFor(cluster_->bus_config(), eccluster_->addresses()));
    }
    Status s = cluster_->Apply(*config_);
    if (!s.ok()) EC_LOG(kError, "duravip reload").Field("error", s);
  }
  ++reloads_;
  EC_LOG(kInfo, "config reloaded").Field("reloads", reloads_);
  return bus.ok() ? bus : bus.WithContext("configuration reloaded except the cluster bus");
}

std::string MtaDaemon::Summary() const {
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - started_);
  const outbound::SchedulerStats out_stats = scheduler_->stats();
  std::ostringstream out;
  out << "Node: " << (options_.node_name.empty() ? SystemHostname() : options_.node_name) << "\n"
      << "Version: " << VersionString() << "\n"
      << "Uptime: " << Duration(uptime) << "\n"
      << "Connections: current " << stats_.connections_current << ", total "
      << stats_.connections_total << ", refused " << stats_.connections_refused << "\n"
      << "Received: " << stats_.messages_received << " messages, "
      << stats_.recipients_received << " recipients, " << stats_.bytes_received << " bytes\n"
      << "Rejected: " << stats_.messages_rejected << " messages, " << stats_.store_failures
      << " spool failures\n"
      << "Queued: " << spool_->size() << " messages\n"
      << "Delivered: " << out_stats.delivered << " recipients\n"
      << "Failed: " << out_stats.transient << " transient, " << out_stats.permanent
      << " permanent\n"
      << "Bounces: " << out_stats.bounces << " generated\n"
      << "Outbound connections: current " << out_stats.connections_current << ", total "
      << out_stats.connections_opened << ", failed " << out_stats.connection_failures << "\n"
      << "Outbound queue: " << scheduler_->queued() << " entries\n"
      << "Config reloads: " << reloads_ << "\n";
  return out.str();
}

void MtaDaemon::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  daemon::NotifyStopping();
  EC_LOG(kInfo, "shutting down").Field("sessions", listener_->connection_count());
  listener_->BeginShutdown();
  if (scheduler_) scheduler_->Stop();
  // Give the console's reply a moment to leave, then stop once sessions are gone.
  base_->RunInLoop([this] { base_->Stop(); });
}

Status MtaDaemon::Run() {
  EC_RETURN_IF_ERROR(base_->Run());
  // Drain: sessions storing a message get their answer; the rest already heard 421.
  base_->RunUntil([this] { return listener_->connection_count() == 0; },
                  options_.shutdown_grace);
  EC_LOG(kInfo, "ecmta stopped").Field("sessions_left", listener_->connection_count());
  return Status::Ok();
}

}  // namespace ec::mta
