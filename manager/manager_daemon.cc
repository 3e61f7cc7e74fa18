#include "manager/manager_daemon.h"

#include <unistd.h>

#include <optional>
#include <sstream>

#include "common/config/check.h"
#include "common/config/loader.h"
#include "common/config/resolve.h"
#include "common/control/listener_config.h"
#include "common/daemon/readiness.h"
#include "common/daemon/run_as.h"
#include "common/log/logger.h"
#include "manager/logs/logs_config.h"
#include "manager/logs/subscriptions.h"
#include "manager/logs/tail.h"
#include "msgc/bus_report.h"
#include "msgc/health_record.h"

namespace ec::manager {
namespace {

std::string ShortHostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "manager";
  std::string name = buf;
  return name.substr(0, name.find('.'));
}

}  // namespace

ManagerDaemon::ManagerDaemon(ManagerDaemonOptions options)
    : options_(std::move(options)), layout_(daemon::RootLayout::FromRoot(options_.root)) {}

ManagerDaemon::~ManagerDaemon() {
  *alive_ = false;
  log_collector_.reset();  // joins the puller threads
  http_.reset();
  control_.reset();  // sessions hold Replies that fan-outs complete
  fanout_.reset();
  fetch_timers_.clear();
  health_timer_.reset();
  bus_.reset();  // says GOODBYE
  signals_.reset();
}

Result<std::unique_ptr<ManagerDaemon>> ManagerDaemon::Create(ManagerDaemonOptions options) {
  std::unique_ptr<ManagerDaemon> d(new ManagerDaemon(std::move(options)));
  EC_RETURN_IF_ERROR(d->Start());
  return d;
}

Status ManagerDaemon::Start() {
  started_ = std::chrono::steady_clock::now();
  config::LoadOptions load;
  load.root = options_.root;
  load.node_name = options_.node_name;
  load.search_path = options_.search_path;
  EC_ASSIGN_OR_RETURN(config_, config::LoadConfig(options_.config_path, load));
  EC_RETURN_IF_ERROR(layout_.CreateDirectories());
  EC_ASSIGN_OR_RETURN(base_, event::EventBase::Create());
  EC_ASSIGN_OR_RETURN(pid_file_, daemon::PidFile::Acquire(layout_.PidFile("eccmgr").string()));
  // Before the bus (ZeroMQ I/O threads) and the log pullers start: they must not keep root.
  EC_ASSIGN_OR_RETURN(daemon::PrivilegeSpec privileges, daemon::PrivilegeSpecFromConfig(*config_));
  std::vector<std::filesystem::path> owned;  // the aggregated logs' root, written as the user
  for (const config::Scope* logs : config_->root.Children("logs")) {
    if (const config::Option* o = logs->FindOption("logfile")) {
      if (auto split = logcollect::SplitLogfile(o->value.text()); split.ok()) {
        owned.push_back(split->first);
      }
    }
  }
  EC_RETURN_IF_ERROR(daemon::RunAsConfiguredUser(privileges, layout_, owned));

  const std::string self = options_.node_name.empty() ? ShortHostname() : options_.node_name;
  auto bus_config = msgc::BusConfigFromConfig(*config_, self, (layout_.etc / "msgc.key").string());
  if (!bus_config.ok()) return bus_config.status().WithContext("msgc_server");
  bus_config_ = std::move(bus_config).value();
  bus_config_.bus.log = msgc::ProcessLogFn();
  EC_RETURN_IF_ERROR(msgc::EnsureOwnKeyPair(bus_config_.bus));
  EC_ASSIGN_OR_RETURN(bus_, msgc::Bus::Create(base_->get(), bus_config_.bus));
  health_ = std::make_unique<HealthView>(bus_config_.health_interval);
  fanout_ = std::make_unique<ConsoleFanout>(*base_, *bus_, bus_config_.control_group,
                                            bus_config_.request_timeout);
  bus_->SetHandler(std::string(msgc::kHealthGroup),
                   [this](const msgc::Message& m) { OnHealth(m); });
  bus_->SetMembershipHandler(
      [this](const msgc::MembershipEvent& e, const msgc::View& v) { OnMembership(e, v); });
  EC_RETURN_IF_ERROR(bus_->Join(std::string(msgc::kHealthGroup)));
  shared_ = std::make_unique<SharedView>();
  cluster_group_ = ClusterGroupOf(*config_);
  bus_->SetHandler(cluster_group_, [this](const msgc::Message& m) { OnCluster(m); });
  // Nodes count every live member of the cluster group in a limit's quorum except their
  // control peers: one that does not list eccmgr would wait for its report forever.
  if (!bus_config_.control_peers.contains(self)) {
    EC_LOG(kWarn, "eccmgr is not in cluster control_peers; nodes must list it there")
        .Field("node", self)
        .Field("group", cluster_group_);
  }
  EC_RETURN_IF_ERROR(bus_->Join(cluster_group_));

  EC_RETURN_IF_ERROR(StartLogCollection(self));
  EC_RETURN_IF_ERROR(OpenControl(*config_));
  RegisterCommands();
  EC_RETURN_IF_ERROR(OpenHttp(*config_));
  health_timer_ = std::make_unique<event::Timer>(*base_, [this] { ReportHealth(); });
  health_timer_->StartRepeating(bus_config_.health_interval);
  EC_ASSIGN_OR_RETURN(signals_,
                      daemon::DaemonSignals::Install(
                          *base_, {.on_stop = [this] { BeginShutdown(); },
                                   .on_reload = [this] { (void)Reload(); }}));
  EC_LOG(kInfo, "eccmgr started")
      .Field("version", std::string(EC_VERSION))
      .Field("node", self)
      .Field("bus", bus_->endpoint())
      .Field("http", http_ ? http_->address() : std::string("off"));
  daemon::NotifyReady();  // bus, console and HTTP listeners are open
  return Status::Ok();
}

Status ManagerDaemon::StartLogCollection(const std::string& self) {
  EC_ASSIGN_OR_RETURN(log_setup_, logcollect::CollectorSetupFromConfig(
                                      *config_, self, (layout_.spool / "eccmgr-logs").string()));
  if (!log_setup_) return Status::Ok();
  logcollect::CollectorOptions options = log_setup_->options;
  options.curve = bus_config_.bus.curve;  // the nodes pin our bus key
  options.on_error = [](std::string_view error) {
    EC_LOG(kWarn, "log collection").Field("error", error);
  };
  log_root_ = options.log_root;
  log_pattern_ = options.pattern;
  EC_ASSIGN_OR_RETURN(log_collector_, logcollect::Collector::Start(std::move(options), {}));
  EC_LOG(kInfo, "collecting logs").Field("root", log_root_).Field("port", log_setup_->port);
  // MTA nodes already seen (a reload); the others as they join the control group.
  for (const std::string& node : fanout_->known_nodes()) CollectLogsOf(node, bus_->view());
  return Status::Ok();
}

void ManagerDaemon::CollectLogsOf(const std::string& node, const msgc::View& view) {
  if (!log_collector_ || !log_setup_) return;
  const msgc::Member* member = view.Find(node);
  const std::string subcluster =
      member ? logcollect::SubclusterOf(member->groups) : std::string("default");
  auto wanted = logcollect::CollectorNodeFor(*config_, *log_setup_, bus_config_.bus.peers, node,
                                             subcluster);
  Status s = wanted.status();
  if (wanted.ok() && *wanted) {
    const bool is_new = log_collector_->Find(node) == nullptr;
    s = log_collector_->Add(**wanted);
    if (s.ok() && is_new) {
      EC_LOG(kInfo, "collecting logs of node")
          .Field("node", node)
          .Field("subcluster", subcluster)
          .Field("subscribers", (*wanted)->subscribers.size());
    }
  } else if (wanted.ok() && log_collector_->Find(node) != nullptr) {
    log_collector_->Remove(node);
    EC_LOG(kInfo, "no longer collecting logs of node").Field("node", node);
  }
  if (!s.ok()) EC_LOG(kError, "log collection").Field("node", node).Field("error", s);
}

Status ManagerDaemon::Reload() {
  daemon::ReloadNotice reloading;
  config::LoadOptions load;
  load.root = options_.root;
  load.node_name = options_.node_name;
  load.search_path = options_.search_path;
  auto config = config::LoadConfig(options_.config_path, load);
  Status s = config.status();
  std::optional<msgc::BusConfig> next;
  if (s.ok()) {
    auto bus_config =
        msgc::BusConfigFromConfig(**config, bus_->name(), (layout_.etc / "msgc.key").string());
    s = bus_config.status().WithContext("msgc_server");
    if (bus_config.ok()) next = std::move(bus_config).value();
  }
  if (s.ok()) {
    // A Logs scope we could not follow refuses the reload, like a bad bus config.
    s = logcollect::CollectorSetupFromConfig(**config, bus_->name(), "-").status();
  }
  if (s.ok()) s = bus_->Reconfigure(next->bus);
  if (!s.ok()) {
    EC_LOG(kError, "config reload refused").Field("error", s);
    return s;
  }
  const auto old_peers = bus_config_.bus.peers;
  config_ = std::move(config).value();
  bus_config_.bus = bus_->options();
  bus_config_.control_peers = std::move(next->control_peers);
  for (const auto& [name, address] : old_peers) {
    if (bus_config_.bus.peers.count(name) != 0) continue;
    health_->Forget(name);
    history_.Forget(name);
    shared_->Forget(name);
    fanout_->ForgetMember(name);
    fetch_timers_.erase(name);
    if (log_collector_) log_collector_->Remove(name);
  }
  ReloadLogCollection();
  ReloadHttp();
  EC_LOG(kInfo, "config reloaded").Field("peers", bus_config_.bus.peers.size());
  return Status::Ok();
}

void ManagerDaemon::ReloadLogCollection() {
  auto setup = logcollect::CollectorSetupFromConfig(*config_, bus_->name(),
                                                    (layout_.spool / "eccmgr-logs").string());
  if (!setup.ok()) {
    EC_LOG(kError, "log collection reload").Field("error", setup.status());
    return;
  }
  auto where = [](const std::optional<logcollect::CollectorSetup>& s) {
    return s ? s->options.log_root + "/" + s->options.pattern + ":" + std::to_string(s->port)
             : std::string();
  };
  if (where(*setup) != where(log_setup_)) {
    // Pullers resume from their recorded positions, so restarting them all loses nothing.
    log_collector_.reset();
    log_setup_.reset();
    if (Status logs = StartLogCollection(bus_->name()); !logs.ok()) {
      EC_LOG(kError, "log collection reload").Field("error", logs);
    }
    return;
  }
  log_setup_ = std::move(setup).value();
  for (const std::string& node : fanout_->known_nodes()) CollectLogsOf(node, bus_->view());
}

void ManagerDaemon::ReloadHttp() {
  if (!options_.http_address.empty()) return;  // the command line's address wins
  auto address = config::EvalString(*config_, config::ScopePath{}, "status_http_listen");
  if (!address.ok()) {
    EC_LOG(kError, "HTTP listener reload").Field("error", address.status());
    return;
  }
  if ((address->empty() ? "off" : *address) == http_listen_) {
    auto root = WebRoot(*config_);
    if (!root.ok()) {
      EC_LOG(kError, "HTTP web root reload").Field("error", root.status());
    } else if (http_ && *root != http_->web_root()) {
      EC_LOG(kInfo, "HTTP web root changed").Field("from", http_->web_root()).Field("to", *root);
      http_->set_web_root(std::move(root).value());
    }
    return;
  }
  auto old = std::move(http_);
  const std::string old_listen = http_listen_;
  if (Status s = OpenHttp(*config_); !s.ok()) {
    http_ = std::move(old);
    http_listen_ = old_listen;
    EC_LOG(kError, "HTTP listener reload").Field("address", *address).Field("error", s);
    return;
  }
  EC_LOG(kInfo, "HTTP listener moved")
      .Field("from", old_listen)
      .Field("to", http_ ? http_->address() : std::string("off"));
}

Status ManagerDaemon::OpenControl(const config::Config& config) {
  EC_ASSIGN_OR_RETURN(
      control::ServerOptions options,
      control::ServerOptionsFromConfig(config, (layout_.run / "eccmgr.sock").string()));
  options.version = "eccmgr " + std::string(EC_VERSION);
  EC_ASSIGN_OR_RETURN(control_, control::Server::Start(*base_, std::move(options)));
  return Status::Ok();
}

Status ManagerDaemon::OpenHttp(const config::Config& config) {
  std::string address = options_.http_address;
  if (address.empty()) {
    EC_ASSIGN_OR_RETURN(address,
                        config::EvalString(config, config::ScopePath{}, "status_http_listen"));
  }
  http_listen_ = address.empty() ? "off" : address;
  if (address.empty() || address == "off") return Status::Ok();
  HttpRoutes routes;
  routes.health = [this] { return health_->Json(*bus_, SelfHealth()); };
  routes.metrics = [this] { return health_->Prometheus(*bus_) + shared_->Prometheus(); };
  routes.history = [this] { return history_.Json(dashboard::NowUnixMs()); };
  routes.logs = [this](const dashboard::LogQuery& q) -> Result<std::string> {
    if (!log_collector_) return FailedPrecondition("no Logs { } scope: logs are not collected");
    return dashboard::TailJson(log_root_, log_pattern_, q);
  };
  EC_ASSIGN_OR_RETURN(routes.web_root, WebRoot(config));
  auto server = StatusHttpServer::Start(*base_, address, std::move(routes));
  if (!server.ok()) return server.status();
  http_ = std::move(server).value();
  return Status::Ok();
}

Result<std::string> ManagerDaemon::WebRoot(const config::Config& config) const {
  auto web_root = config::EvalString(config, config::ScopePath{}, "status_http_web_root");
  if (!web_root.ok() && web_root.status().code() != StatusCode::kNotFound) return web_root.status();
  // Unset (the usual case): the files the package installs under the root.
  if (!web_root.ok() || web_root->empty()) return (layout_.root / "share" / "web").string();
  return std::move(web_root).value();
}

void ManagerDaemon::RegisterCommands() {
  auto& commands = control_->commands();
  (void)commands.RegisterSync(
      "logs tail", "[--node N] [--log L] [--lines N]: the last lines of the aggregated logs",
      [this](const control::Request& r) -> Result<std::string> {
        if (!log_collector_) return FailedPrecondition("no Logs { } scope: logs are not collected");
        EC_ASSIGN_OR_RETURN(auto tail, logcollect::ParseTailArgs(r.arg_words));
        if (tail.follow)
          return InvalidArgument("the console cannot follow; run eccmgr logs tail -f");
        tail.log_root = log_root_;
        tail.pattern = log_pattern_;
        std::ostringstream out;
        EC_RETURN_IF_ERROR(logcollect::RunTail(tail, out));
        return out.str();
      });
  (void)commands.RegisterSync("logs status", "each node's and log's collection counters",
                              [this](const control::Request&) -> Result<std::string> {
                                if (!log_collector_) return std::string("logs are not collected\n");
                                return log_collector_->Report();
                              });
  (void)commands.RegisterSync("show cluster membership",
                              "the bus members, their state and how long the view is stable",
                              [this](const control::Request&) -> Result<std::string> {
                                return msgc::FormatMembership(*bus_);
                              });
  (void)commands.RegisterSync(
      "show cluster health", "every member's last health record",
      [this](const control::Request&) -> Result<std::string> { return health_->Text(*bus_); });
  (void)commands.RegisterSync(
      "show cluster duravip",
      "every DuraVIP address, the live members holding it, CONFLICT if two at once; takeovers",
      [this](const control::Request&) -> Result<std::string> {
        return FormatDuravipTable(health_->Duravip(*bus_));
      });
  (void)commands.RegisterSync(
      "info", "this manager's bus, view and counters",
      [this](const control::Request&) -> Result<std::string> { return Info(); });
  std::weak_ptr<bool> alive = alive_;
  (void)commands.Register(
      "broadcast", "broadcast <command>: run it on every node and gather the answers",
      [this](const control::Request& request, control::Reply reply) {
        if (request.args.empty()) return reply.Error("usage: broadcast <command>");
        fanout_->Broadcast(request.args,
                           [reply](FanoutResult r) { reply.Ok(FormatFanout("broadcast", r)); });
      });
  (void)commands.Register(
      "unicast", "unicast <node> <command>: run it on one node",
      [this](const control::Request& request, control::Reply reply) {
        if (request.arg_words.size() < 2) return reply.Error("usage: unicast <node> <command>");
        const std::string& node = request.arg_words[0];
        if (!bus_->view().Find(node)) return reply.Error("no bus member named " + node);
        std::string command = request.args.substr(request.args.find(node) + node.size());
        command.erase(0, command.find_first_not_of(" \t"));
        fanout_->Unicast(node, command,
                         [reply](FanoutResult r) { reply.Ok(FormatFanout("unicast", r)); });
      });
  (void)commands.RegisterSync(
      "retrieve", "retrieve [<command>]: the cached answers of the last broadcast of <command>",
      [this](const control::Request& request) -> Result<std::string> {
        if (request.args.empty()) {
          std::string out = "Cached commands:\n";
          for (const std::string& c : fanout_->CachedCommands()) out += "  " + c + "\n";
          return out;
        }
        const FanoutResult* cached = fanout_->Cached(request.args);
        if (!cached) return NotFound("nothing cached for `" + request.args + "` (broadcast it)");
        return FormatFanout("retrieve", *cached);
      });
  (void)commands.RegisterSync(
      "retrieve_node", "retrieve_node <node> <command>: one node's cached answer",
      [this](const control::Request& request) -> Result<std::string> {
        if (request.arg_words.size() < 2) {
          return InvalidArgument("usage: retrieve_node <node> <command>");
        }
        const std::string& node = request.arg_words[0];
        std::string command = request.args.substr(request.args.find(node) + node.size());
        command.erase(0, command.find_first_not_of(" \t"));
        const FanoutResult* cached = fanout_->Cached(command);
        FanoutResult one{command, {}};
        if (cached) {
          for (const NodeAnswer& a : cached->answers) {
            if (a.node == node) one.answers.push_back(a);
          }
        }
        if (one.answers.empty())
          return NotFound("nothing cached from " + node + " for `" + command + "`");
        return FormatFanout("retrieve_node", one);
      });
  (void)commands.RegisterSync("config reload",
                              "read the config file again; the bus follows its peers and keys",
                              [this](const control::Request&) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(Reload());
                                return std::string("configuration reloaded");
                              });
  // The aggregated files need nothing: the pullers open them for each write.
  (void)commands.RegisterSync("reopen logs", "reopen eccmgr's --log-file (logrotate)",
                              [](const control::Request&) -> Result<std::string> {
                                EC_RETURN_IF_ERROR(log::Logger::Global().Reopen());
                                return std::string("logs reopened");
                              });
  (void)commands.RegisterSync("shutdown", "stop eccmgr",
                              [this](const control::Request&) -> Result<std::string> {
                                BeginShutdown();
                                return std::string("shutting down");
                              });
}

std::string ManagerDaemon::Info() const {
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_);
  std::string out = "Daemon: eccmgr " + std::string(EC_VERSION) + "\n";
  out += "Uptime: " + std::to_string(uptime.count()) + " s\n";
  out += msgc::FormatBusInfo(*bus_);
  out += "Control group: " + bus_config_.control_group +
         ", nodes seen in it: " + std::to_string(fanout_->known_nodes().size()) + "\n";
  out += "Health records: " + std::to_string(health_->size()) + " members, " +
         std::to_string(health_->updates()) + " received, " + std::to_string(health_rejected_) +
         " rejected\n";
  out += "HTTP: " + (http_ ? http_->address() + " (/health, /metrics, dashboard /)" : std::string("off")) + "\n";
  return out;
}

msgc::HealthRecord ManagerDaemon::SelfHealth() const { return msgc::BusHealth(*bus_, "manager"); }

void ManagerDaemon::ReportHealth() {
  const std::string json = msgc::HealthRecordToJson(SelfHealth());
  log::Logger::Global().Emit(log::Level::kInfo, "msg=\"cluster health\" health=" + json);
  (void)bus_->Shout(std::string(msgc::kHealthGroup), json);  // to other managers, if any
}

void ManagerDaemon::OnHealth(const msgc::Message& message) {
  if (message.type == msgc::MessageType::kRequest) {
    (void)bus_->Reply(message, msgc::HealthRecordToJson(SelfHealth()));
    return;
  }
  auto record = msgc::ParseHealthRecord(message.payload);
  Status s = record.ok() ? health_->Update(message.sender, *record) : record.status();
  if (s.ok()) history_.Add(message.sender, dashboard::SampleOf(*record));
  if (!s.ok()) {
    ++health_rejected_;
    EC_LOG(kWarn, "health record dropped").Field("peer", message.sender).Field("error", s);
  }
}

void ManagerDaemon::FetchHealth(const std::string& peer, int attempts_left) {
  std::weak_ptr<bool> alive = alive_;
  bus_->Request(peer, std::string(msgc::kHealthGroup), "", bus_config_.request_timeout,
                [this, alive, peer, attempts_left](Result<std::string> reply) {
                  if (alive.expired()) return;
                  if (reply.ok()) {
                    msgc::Message m;
                    m.type = msgc::MessageType::kWhisper;
                    m.sender = peer;
                    m.payload = std::move(reply).value();
                    OnHealth(m);
                    return;
                  }
                  // Our link to a peer that just came alive may lag a moment behind.
                  if (reply.status().code() == StatusCode::kUnavailable && attempts_left > 1 &&
                      bus_->IsAlive(peer)) {
                    auto& timer = fetch_timers_[peer];
                    timer = std::make_unique<event::Timer>(*base_, [this, peer, attempts_left] {
                      FetchHealth(peer, attempts_left - 1);
                    });
                    timer->Start(bus_config_.bus.heartbeat_interval);
                  }
                });
}

void ManagerDaemon::OnMembership(const msgc::MembershipEvent& event, const msgc::View& view) {
  using Kind = msgc::MembershipEvent::Kind;
  if (event.kind == Kind::kGroupJoined && event.group == bus_config_.control_group) {
    fanout_->NoteMember(event.peer);
  }
  // Only MTA nodes join the control group; a subcluster group may come with it or later.
  if (event.kind == Kind::kGroupJoined && fanout_->known_nodes().contains(event.peer) &&
      (event.group == bus_config_.control_group ||
       event.group.starts_with(logcollect::kSubclusterGroupPrefix))) {
    CollectLogsOf(event.peer, view);
  }
  msgc::LogMembershipEvent(event, view);
  if (event.kind == Kind::kAlive) FetchHealth(event.peer, 20);
  if (event.kind == Kind::kDead ||
      (event.kind == Kind::kGroupLeft && event.group == cluster_group_)) {
    shared_->Forget(event.peer);  // its share no longer counts, as on the nodes
  }
}

void ManagerDaemon::OnCluster(const msgc::Message& message) {
  if (message.type == msgc::MessageType::kRequest) {
    (void)bus_->ReplyError(message, "eccmgr holds no DuraVIP");  // DuraVIP asks every member
    return;
  }
  Status s = shared_->OnMessage(message.sender, message.payload);
  if (s.code() == StatusCode::kInvalidArgument) {
    EC_LOG(kWarn, "shared-limits message dropped").Field("peer", message.sender).Field("error", s);
  }
}

void ManagerDaemon::BeginShutdown() {
  if (stopping_) return;
  stopping_ = true;
  daemon::NotifyStopping();
  EC_LOG(kInfo, "eccmgr shutting down");
  base_->RunInLoop([this] { base_->Stop(); });
}

Status ManagerDaemon::Run() {
  EC_RETURN_IF_ERROR(base_->Run());
  EC_LOG(kInfo, "eccmgr stopped");
  return Status::Ok();
}

}  // namespace ec::manager
