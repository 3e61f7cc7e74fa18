#include "mta/cluster/cluster_module.h"

#include <unistd.h>

#include <filesystem>

#include "common/log/logger.h"
#include "msgc/bus_report.h"
#include "msgc/health_record.h"
#include "msgc/subcluster.h"
#include "msgc/subcluster_file.h"
#include "mta/cluster/config_revision.h"

namespace ec::mta::cluster {
namespace {

constexpr std::string_view kConfigGroup = "ec_config";

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

}  // namespace

Status ValidateDuravip(const config::Config& config, const std::string& node_name) {
  EC_ASSIGN_OR_RETURN(duravip::DuravipConfig d, duravip::ReadDuravipConfig(config));
  if (d.empty()) return Status::Ok();
  std::vector<std::string> own;
  if (!msgc::HasBusConfig(config)) {
    const config::Location& at =
        d.vips.empty() ? d.follows.front().location : d.vips.front().location;
    return InvalidArgument(at.ToString() +
                           ": DuraVIPs need the cluster bus (msgc_server peers) to elect their "
                           "owners");
  }
  std::string self = node_name;
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("nodename")) self = o->value.text();
  }
  auto bus = msgc::BusConfigFromConfig(config, self, "");
  if (bus.ok()) {
    auto it = bus->bus.peers.find(self);
    if (it != bus->bus.peers.end()) own.push_back(it->second);
  }
  return duravip::DiagnosticsStatus(duravip::ValidateDuravipConfig(config, d, own));
}

std::string DefaultEccfgPath() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "eccfg";
  return (self.parent_path() / "eccfg").string();
}

ClusterModule::ClusterModule(event::EventBase& base, ClusterModuleOptions options)
    : base_(base), options_(std::move(options)) {}

ClusterModule::~ClusterModule() {
  *alive_ = false;
  AttachReplication(nullptr);  // it must not send on a bus that is going
  duravip_.reset();  // gives its addresses up while the bus can still say so
  health_timer_.reset();
  puller_.reset();
  bus_.reset();  // says GOODBYE, so peers drop us at once
}

Result<std::unique_ptr<ClusterModule>> ClusterModule::Create(event::EventBase& base,
                                                             const config::Config& config,
                                                             ClusterModuleOptions options) {
  if (!options.commands) return InvalidArgument("cluster module needs the command registry");
  std::unique_ptr<ClusterModule> m(new ClusterModule(base, std::move(options)));
  EC_RETURN_IF_ERROR(m->Start(config));
  return m;
}

Status ClusterModule::Start(const config::Config& config) {
  config_revision_ = ConfigRevisionOf(config.files);
  std::string self = options_.node_name;
  std::string eccfg = options_.eccfg_path;
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("nodename")) self = o->value.text();
    if (const config::Option* o = cluster->FindOption("eccfg_path")) {
      if (eccfg.empty()) eccfg = o->value.text();
    }
  }
  if (self.empty()) {
    return InvalidArgument(
        "the cluster bus needs a node name (--node-name or cluster { nodename })");
  }
  if (eccfg.empty()) eccfg = DefaultEccfgPath();
  // Momentum's ec_sc_<subcluster> (cluster.boot's cluster_name): eccmgr files our logs under it.
  std::string subcluster(msgc::kDefaultSubcluster);
  if (!options_.root.empty()) {
    EC_ASSIGN_OR_RETURN(subcluster, msgc::ReadSubcluster(options_.root + "/etc/cluster.boot"));
  }
  EC_ASSIGN_OR_RETURN(const std::string subcluster_group, msgc::SubclusterGroup(subcluster));
  const std::string default_key = options_.root + "/etc/msgc.key";
  auto bus_config = msgc::BusConfigFromConfig(config, self, default_key);
  if (!bus_config.ok()) return bus_config.status().WithContext("msgc_server");
  config_ = std::move(bus_config).value();
  config_.bus.log = msgc::ProcessLogFn();
  EC_RETURN_IF_ERROR(msgc::EnsureOwnKeyPair(config_.bus));
  EC_ASSIGN_OR_RETURN(bus_, msgc::Bus::Create(base_.get(), config_.bus));

  ConfigPullerOptions pull;
  pull.argv = {eccfg, "pull", "--auto", "--root", options_.root};
  pull.log = [](std::string_view line) {
    log::Logger::Global().Emit(log::Level::kInfo, "msg=\"config notice\" " + std::string(line));
  };
  puller_ = std::make_unique<ConfigPuller>(base_, std::move(pull));

  bus_->SetHandler(config_.control_group, [this](const msgc::Message& m) { OnConsoleRequest(m); });
  bus_->SetHandler(std::string(kConfigGroup),
                   [this](const msgc::Message& m) { OnConfigNotice(m); });
  bus_->SetHandler(std::string(msgc::kHealthGroup), [this](const msgc::Message& m) {
    // eccmgr asks for our record when it first sees us.
    if (m.type == msgc::MessageType::kRequest) {
      (void)bus_->Reply(m, msgc::HealthRecordToJson(Health()));
    }
  });
  bus_->SetMembershipHandler([this](const msgc::MembershipEvent& e, const msgc::View& v) {
    msgc::LogMembershipEvent(e, v);
    if (duravip_) duravip_->OnMembership(e);
    if (replication_) replication_->OnMembership(e);
  });
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("cluster_group")) {
      cluster_group_ = o->value.text();
    }
  }
  bus_->SetHandler(cluster_group_, [this](const msgc::Message& m) {
    if (m.type == msgc::MessageType::kRequest) {
      // kFailedPrecondition at the asker: this node holds no DuraVIP.
      if (duravip_) {
        duravip_->OnRequest(m);
      } else {
        (void)bus_->ReplyError(m, "no DuraVIP on this node");
      }
      return;
    }
    // Shared-limits messages decode as such (replication::DecodeMessage); the rest is DuraVIP's.
    if (replication_ && replication_->OnMessage(m)) return;
    if (!duravip_ || !duravip_->OnMessage(m)) {
      EC_LOG(kDebug, "cluster message ignored").Field("from", m.sender);
    }
  });
  // The subcluster first: eccmgr starts pulling our logs when we join the control group.
  for (const std::string& group :
       {subcluster_group, config_.control_group, std::string(kConfigGroup), cluster_group_}) {
    EC_RETURN_IF_ERROR(bus_->Join(group));
  }
  RegisterCommands();
  EC_RETURN_IF_ERROR(StartDuravip(config));
  health_timer_ = std::make_unique<event::Timer>(base_, [this] { ReportHealth(); });
  health_timer_->StartRepeating(config_.health_interval);
  EC_LOG(kInfo, "cluster module started")
      .Field("node", self)
      .Field("subcluster", subcluster)
      .Field("endpoint", bus_->endpoint())
      .Field("peers", config_.bus.peers.size())
      .Field("curve", config_.bus.curve.enabled());
  return Status::Ok();
}

Status ClusterModule::StartDuravip(const config::Config& config) {
  EC_ASSIGN_OR_RETURN(duravip::DuravipConfig d, duravip::ReadDuravipConfig(config));
  // Our own bus address can never be a DuraVIP: it would vanish with the election.
  const auto self = config_.bus.peers.find(config_.bus.self);
  std::vector<std::string> own;
  if (self != config_.bus.peers.end()) own.push_back(self->second);
  EC_RETURN_IF_ERROR(duravip::DiagnosticsStatus(duravip::ValidateDuravipConfig(config, d, own)));
  if (d.empty()) return Status::Ok();
  std::unique_ptr<VipPlumbing> plumbing;
  if (options_.make_plumbing) {
    EC_ASSIGN_OR_RETURN(plumbing, options_.make_plumbing());
  } else {
    EC_ASSIGN_OR_RETURN(plumbing, MakeKeeperPlumbing());
  }
  DuravipHooks hooks = options_.duravip_hooks;
  hooks.on_change = [this] {
    if (duravip_) ReportHealth();  // not while Create() is still running
  };
  EC_ASSIGN_OR_RETURN(duravip_, DuravipModule::Create(base_, *bus_, cluster_group_, std::move(d),
                                                      std::move(plumbing), std::move(hooks)));
  duravip_->RegisterCommands(options_.commands);
  return Status::Ok();
}

void ClusterModule::AttachReplication(SharedReplication* replication) {
  if (replication_) replication_->DetachBus();
  replication_ = replication;
  if (replication_) replication_->AttachBus(bus_.get(), cluster_group_, config_.control_peers);
}

Status ClusterModule::Apply(const config::Config& config) {
  config_revision_ = ConfigRevisionOf(config.files);  // whatever DuraVIP makes of it below
  EC_ASSIGN_OR_RETURN(duravip::DuravipConfig d, duravip::ReadDuravipConfig(config));
  if (!duravip_) return StartDuravip(config);
  duravip_->Apply(std::move(d));
  return Status::Ok();
}

Status ClusterModule::Reload(const config::Config& config) {
  // The node name is fixed for the process (a new one needs a restart, as Reconfigure says).
  auto next =
      msgc::BusConfigFromConfig(config, bus_->name(), options_.root + "/etc/msgc.key");
  if (!next.ok()) return next.status().WithContext("msgc_server");
  EC_RETURN_IF_ERROR(bus_->Reconfigure(next->bus));
  config_.bus = bus_->options();
  config_.control_peers = std::move(next->control_peers);
  if (replication_) replication_->SetControlPeers(config_.control_peers);
  return Status::Ok();
}

void ClusterModule::RegisterCommands() {
  auto& commands = *options_.commands;
  (void)commands.RegisterSync("cluster membership",
                              "the bus members this node sees, their state and the view's age",
                              [this](const control::Request&) -> Result<std::string> {
                                return msgc::FormatMembership(*bus_);
                              });
  (void)commands.RegisterSync(
      "cluster info", "this node's bus endpoint, groups, view and counters",
      [this](const control::Request&) -> Result<std::string> {
        std::string out = msgc::FormatBusInfo(*bus_);
        out += "Relayed commands answered: " + std::to_string(relayed_commands_) + "\n";
        out += "Config pulls: started " + std::to_string(puller_->started()) + ", ok " +
               std::to_string(puller_->succeeded()) + ", failed " +
               std::to_string(puller_->failed()) + (puller_->running() ? ", one running" : "") +
               "\n";
        out += "Config re-announcements ignored: " + std::to_string(puller_->duplicates()) + "\n";
        if (!puller_->last_revision().empty()) {
          out += "Last config notice: " + puller_->last_revision() + "\n";
        }
        return out;
      });
  (void)commands.RegisterSync(
      "cluster nodename", "this node's name on the bus",
      [this](const control::Request&) -> Result<std::string> { return bus_->name() + "\n"; });
  (void)commands.RegisterSync("cluster health", "the JSON health record this node reports",
                              [this](const control::Request&) -> Result<std::string> {
                                return msgc::HealthRecordToJson(Health()) + "\n";
                              });
}

msgc::HealthRecord ClusterModule::Health() const {
  msgc::HealthRecord r = msgc::BusHealth(*bus_, "mta");
  r.config_revision = config_revision_;
  if (options_.counters) {
    const NodeCounters c = options_.counters();
    r.received = c.received;
    r.delivered = c.delivered;
    r.failed = c.failed;
    r.queue_size = c.queue_size;
  }
  if (duravip_) {
    const std::set<std::string> held = duravip_->held();
    r.duravips.assign(held.begin(), held.end());
    r.duravip_takeovers = duravip_->takeovers();
  }
  return r;
}

void ClusterModule::ReportHealth() {
  const std::string json = msgc::HealthRecordToJson(Health());
  log::Logger::Global().Emit(log::Level::kInfo, "msg=\"cluster health\" health=" + json);
  (void)bus_->Shout(std::string(msgc::kHealthGroup), json);
}

void ClusterModule::OnConsoleRequest(const msgc::Message& request) {
  if (request.type != msgc::MessageType::kRequest) return;  // commands come as requests only
  auto match = options_.commands->Find(request.payload);
  // A CURVE key proves who sent it, not that they may run commands: only the manager role may.
  const bool allowed = config_.control_peers.contains(request.sender);
  if (options_.on_accounting && match) {  // the acctlog's Z record
    const auto address = config_.bus.peers.find(request.sender);
    options_.on_accounting(
        {.kind = control::AccountingEvent::Kind::kAuthorization,
         .listener = "msgc:" + config_.control_group,
         .peer = address == config_.bus.peers.end() ? std::string() : address->second,
         .user = "msgc:" + request.sender,
         .allowed = allowed,
         .command = match->request.command});
  }
  if (!allowed) {
    EC_LOG(kWarn, "relayed command refused: sender is not a control peer")
        .Field("from", request.sender)
        .Field("command", Trim(request.payload));
    (void)bus_->ReplyError(request, "refused: " + request.sender +
                                        " is not a control peer (cluster { control_peers })");
    return;
  }
  if (!match) {
    (void)bus_->ReplyError(request, "unknown command: " + Trim(request.payload));
    return;
  }
  ++relayed_commands_;
  EC_LOG(kInfo, "relayed command")
      .Field("from", request.sender)
      .Field("command", match->request.command);
  const control::Handler handler = *match->handler;  // the registry may change while it runs
  match->request.peer = "msgc:" + request.sender;
  match->request.principal = "msgc:" + request.sender;
  std::weak_ptr<bool> alive = alive_;
  msgc::Bus* bus = bus_.get();
  event::EventBase* base = &base_;
  control::Reply reply([alive, bus, base, request](control::Response response) {
    // A Reply may be used from another thread; the bus only from its loop.
    base->RunInLoop([alive, bus, request, response = std::move(response)] {
      if (alive.expired()) return;
      Status s = response.ok ? bus->Reply(request, response.text)
                             : bus->ReplyError(request, response.text);
      if (!s.ok()) EC_LOG(kWarn, "relayed command reply lost").Field("error", s);
    });
  });
  handler(match->request, reply);
}

void ClusterModule::OnConfigNotice(const msgc::Message& message) {
  if (message.type != msgc::MessageType::kShout && message.type != msgc::MessageType::kWhisper) {
    if (message.type == msgc::MessageType::kRequest) {
      (void)bus_->ReplyError(message, "ec_config takes notices, not requests");
    }
    return;
  }
  const std::string revision = Trim(message.payload);
  const uint64_t duplicates = puller_->duplicates();
  Status s = puller_->Notice(revision);
  if (!s.ok()) {
    EC_LOG(kWarn, "config notice ignored").Field("from", message.sender).Field("error", s);
    return;
  }
  // ecconfigd repeats its revisions every few seconds; only a new one is worth a line.
  if (puller_->duplicates() != duplicates) return;
  EC_LOG(kInfo, "config notice").Field("from", message.sender).Field("revision", revision);
}

}  // namespace ec::mta::cluster
