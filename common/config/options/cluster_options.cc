// Cluster options: the cluster module (membership, DuraVIP, log shipping, Replicate,
// Topology), cluster-wide limits, the msgc bus (msgc_server, msgc_client).
#include "common/config/schema.h"

namespace ec::config {

void RegisterClusterOptions(SchemaRegistry* r) {
  using T = OptionType;
  using S = Support;
  auto add = [r](OptionSpec s) { r->AddOption(std::move(s)); };
  const std::vector<std::string> kCluster = {"cluster"};

  // Cluster-wide limits, set in outbound scopes (docs/cluster-limits.md). Each needs the
  // Replicate type that carries it in cluster { } (ecmta --check-config refuses it otherwise).
  add({.name = "cluster_max_outbound_connections",
       .type = T::kInt,
       .default_text = "-1",
       .scopes = {"binding", "domain", "global", "host"},
       .min = -1,
       .doc = "Connections the cluster opens per domain (Binding: per binding and domain; Host: "
              "per remote address); needs Replicate outbound_domains; -1 = none",
       .support = S::kImplemented});
  add({.name = "cluster_server_max_outbound_connections",
       .type = T::kInt,
       .scopes = {"binding", "binding_group", "global"},
       .min = -1,
       .doc = "Connections the cluster opens from the binding, the binding group, or in all "
              "(global); needs Replicate outbound_cidr; -1 = none",
       .support = S::kImplemented});
  add({.name = "cluster_scope_max_outbound_connections",
       .type = T::kInt,
       .scopes = scope_sets::kOutHost,
       .min = -1,
       .doc = "Connections the cluster opens within the scope it is set in (a /regex/ Domain: "
              "all its domains together); needs Replicate outbound_binding_domains; -1 = none",
       .support = S::kImplemented});
  add({.name = "cluster_outbound_throttle_connections",
       .type = T::kRate,
       .scopes = {"binding_group", "domain", "global"},
       .doc = "Connections the cluster opens per domain (Binding_Group: per group) in any "
              "window of the rate's seconds; needs Replicate OBTC; 0 = none",
       .support = S::kImplemented});
  add({.name = "cluster_outbound_throttle_messages",
       .type = T::kRate,
       .scopes = {"binding_group", "domain", "global"},
       .doc = "Messages the cluster delivers per domain (Binding_Group: per group) in any "
              "window of the rate's seconds; needs Replicate OBTM; 0 = none",
       .support = S::kImplemented});

  // Shared named throttles (Momentum's ec_shared_throttle_*, here from configuration): a
  // Shared_Throttle "name" { messages } counted cluster-wide, taken at MAIL FROM by the inbound
  // scopes that name it (docs/cluster-limits.md, "Shared named throttles").
  add({.name = "messages",
       .type = T::kRate,
       .scopes = {"shared_throttle"},
       .doc = "Transactions (MAIL FROM) the cluster accepts through this throttle in any window "
              "of the rate's seconds; clustered: needs Replicate shared_named_throttles; 0 = none",
       .support = S::kImplemented});
  add({.name = "shared_throttle",
       .type = T::kString,
       .scopes = {"esmtp_listener", "listen", "peer", "pathway", "pathway_group"},
       .doc = "The Shared_Throttle each transaction from here takes a unit of; used up: MAIL "
              "FROM gets 451 4.7.1",
       .support = S::kImplemented});

  // DuraVIP, on bindings and Listen sockets.
  add({.name = "enable_duravip",
       .type = T::kBool,
       .default_text = "false",
       .scopes = {"binding", "listen"},
       // A Listen a reload adds is withheld until elected, as at start (MtaDaemon::Reload).
       .doc = "Keep this address alive on some live node (the node's first DuraVIP after it "
              "dropped root needs a restart: the keeper is forked before the drop)",
       .support = S::kImplemented});
  add({.name = "duravip_preference",
       .type = T::kString,
       .scopes = {"binding", "listen"},
       .doc = "Node that owns the DuraVIP whenever it is alive",
       .support = S::kImplemented});
  add({.name = "duravip_follow",
       .type = T::kString,
       .scopes = {"listen"},
       .doc = "Listener address follows the node owning this binding",
       .support = S::kImplemented});

  // cluster { }.
  add({.name = "cluster_group",
       .type = T::kString,
       .default_text = "ec_cluster",
       .scopes = kCluster,
       .reloadable = false,  // the bus handlers are set up once (cluster_module.cc, eccmgr)
       .doc = "Bus group for DuraVIP and replicated counters",
       .support = S::kImplemented});
  add({.name = "control_group",
       .type = T::kString,
       .default_text = "ec_console",
       .scopes = kCluster,
       .reloadable = false,
       .doc = "Bus group on which nodes take console commands",
       .support = S::kImplemented});
  add({.name = "control_peers",
       .type = T::kList,
       .default_text = "( )",
       .scopes = kCluster,
       .doc = "Bus members in the manager role: only they may relay console commands to this "
              "node and read or acknowledge its log journals (ECCluster)",
       .support = S::kImplemented});
  add({.name = "nodename",
       .type = T::kString,
       .scopes = kCluster,
       .reloadable = false,  // the bus refuses a new name of its own (Bus::Reconfigure)
       .doc = "This node's name (default: --node-name, else the short host name)",
       .support = S::kImplemented});
  add({.name = "eccfg_path",
       .type = T::kString,
       .scopes = kCluster,
       .reloadable = false,
       .doc = "eccfg run on each ec_config notice (default: eccfg beside ecmta)",
       .support = S::kImplemented});
  add({.name = "nodeaddr",
       .type = T::kString,
       .scopes = kCluster,
       .doc = "Routable cluster address (not 127.0.0.1 on real hosts)",
       .support = S::kPlanned});
  add({.name = "arp_all_hosts",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kCluster,
       .doc = "Broadcast gratuitous ARP on DuraVIP moves",
       .support = S::kImplemented});
  add({.name = "heartbeat_start_delay",
       .type = T::kSeconds,
       .default_text = "15",
       .scopes = kCluster,
       .doc = "Delay before heartbeats start",
       .support = S::kPlanned});
  add({.name = "heartbeats_per_sec",
       .type = T::kInt,
       .default_text = "1",
       .scopes = kCluster,
       .min = 1,
       .max = 100,
       .doc = "Heartbeat frequency",
       .support = S::kPlanned});
  add({.name = "if_check_interval",
       .type = T::kSeconds,
       .default_text = "30",
       .scopes = kCluster,
       .doc = "Reconcile plumbed addresses with the view this often",
       .support = S::kPlanned});
  add({.name = "if_down_limit",
       .type = T::kSeconds,
       .default_text = "0",
       .scopes = kCluster,
       .doc = "Extra wait before taking over a dead node's DuraVIP (Momentum: 4)",
       .support = S::kImplemented});
  add({.name = "view_mature_time",
       .type = T::kSeconds,
       .default_text = "5",
       .scopes = kCluster,
       .doc = "A view unchanged this long is mature",
       .support = S::kImplemented});
  add({.name = "view_balance_interval",
       .type = T::kSeconds,
       .default_text = "10",
       .scopes = kCluster,
       .doc = "How often DuraVIPs are balanced",
       .support = S::kImplemented});
  add({.name = "view_broadcast_interval",
       .type = T::kSeconds,
       .default_text = "0",
       .scopes = kCluster,
       .doc = "Speculative view re-announce; 0 = off"});
  add({.name = "duravip_quorum",
       .type = T::kInt,
       .default_text = "0",
       .scopes = kCluster,
       .min = 0,
       .doc = "Bus peers a node must see alive to hold DuraVIPs; 0 = a strict majority, 1 = "
              "Momentum's behaviour",
       .support = S::kImplemented});
  add({.name = "duravip_balance_set_size",
       .type = T::kInt,
       .default_text = "1",
       .scopes = kCluster,
       .min = 1,
       .doc = "DuraVIPs balanced per batch; same on all nodes",
       .support = S::kImplemented});
  add({.name = "unconditional_rebind",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kCluster,
       .doc = "Full set_binding logic on message moves (#mmove): the moved message keeps its "
              "set_binding/set_binding_group and the receiver resolves it; false pins it to the "
              "binding it moved for",
       .support = S::kImplemented});
  add({.name = "log_group",
       .type = T::kString,
       .scopes = kCluster,
       .doc = "Broadcast paniclog lines on this bus group"});
  add({.name = "log_active_interval",
       .type = T::kSeconds,
       .default_text = "1",
       .scopes = kCluster,
       .doc = "Log shipping pause between segments when busy",
       .support = S::kPlanned});
  add({.name = "log_idle_interval",
       .type = T::kSeconds,
       .default_text = "10",
       .scopes = kCluster,
       .doc = "Log shipping pause when nothing is pending",
       .support = S::kPlanned});
  add({.name = "logs",
       .type = T::kDict,
       .default_text = "[ mainlog = /opt/ecmta/log/mainlog.cluster "
                       "rejectlog = /opt/ecmta/log/rejectlog.cluster "
                       "paniclog = /opt/ecmta/log/paniclog.cluster "
                       "acctlog = /opt/ecmta/log/acctlog.cluster "
                       "bouncelog = /opt/ecmta/log/bouncelog.cluster ]",
       .scopes = kCluster,
       .doc = "Log journals offered to the manager (key = log name)",
       .support = S::kPlanned});

  // Replicate "name" { } and Topology "cidr" { }.
  const std::vector<std::string> kReplicate = {"replicate"};
  add({.name = "type",
       .type = T::kEnum,
       .scopes = kReplicate,
       .enum_values = {"inbound_cidr", "outbound_cidr", "outbound_domains",
                       "outbound_binding_domains", "shared_named_throttles", "obtm", "obtc",
                       "cache", "metrics", "eccmgr_metrics"},
       // Replicated by nothing yet: no inbound cluster limits, no shared cache or metrics
       // series.
       .values_not_acted_on = {"inbound_cidr", "cache", "metrics", "eccmgr_metrics"},
       .doc = "What is replicated (default: the scope's name, any case)",
       .support = S::kImplemented});
  add({.name = "class", .type = T::kString, .scopes = kReplicate, .doc = "Replication class"});
  add({.name = "parameters",
       .type = T::kString,
       .scopes = kReplicate,
       .doc = "Type parameters, e.g. \"connect;reception\""});
  add({.name = "max_delay",
       .type = T::kSeconds,
       .default_text = "1.0",
       .scopes = kReplicate,
       .doc = "Longest wait before publishing a change (more than 0, at most 60)",
       .support = S::kImplemented});
  add({.name = "max_pending",
       .type = T::kInt,
       .default_text = "100",
       .scopes = kReplicate,
       .min = 1,
       .doc = "Changes batched before publishing",
       .support = S::kImplemented});
  add({.name = "max_size",
       .type = T::kInt,
       .default_text = "-1",
       .scopes = kReplicate,
       .min = -1,
       .doc = "Entry cap; -1 = none"});
  add({.name = "binding_group",
       .type = T::kString,
       .scopes = kReplicate,
       .doc = "Restrict to one binding group"});
  add({.name = "interface",
       .type = T::kString,
       .scopes = {"topology"},
       .doc = "Network interface that carries DuraVIPs of this CIDR",
       .support = S::kImplemented});
  add({.name = "cidrmask",
       .type = T::kInt,
       .default_text = "32",
       .scopes = {"topology"},
       .min = 0,
       .max = 128,
       .doc = "Prefix length of plumbed DuraVIPs",
       .support = S::kImplemented});

  // msgc_server { } and msgc_client { } (msgc_server.conf, ecelerity-cluster.conf).
  const std::vector<std::string> kMsgcServer = {"msgc_server"};
  const std::vector<std::string> kMsgcBoth = {"msgc_server", "msgc_client"};
  add({.name = "peers",
       .type = T::kDict,
       .scopes = kMsgcServer,
       .doc = "Every bus peer: [ nodename = \"address\" ... ] (lower-case names); ecmta and "
              "eccmgr follow a reload, ecconfigd a SIGHUP",
       .support = S::kImplemented});
  add({.name = "port",
       .type = T::kInt,
       .default_text = "4809",
       .scopes = kMsgcServer,
       .reloadable = false,
       .min = 1,
       .max = 65535,
       .doc = "Bus port of the peers",
       .support = S::kImplemented});
  // Our bus's own timers and keys (docs/bus-protocol.md); not in Momentum's msgc.
  add({.name = "heartbeat_interval",
       .type = T::kSeconds,
       .default_text = "0.25",
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "Bus heartbeat period",
       .support = S::kImplemented});
  add({.name = "dead_timeout",
       .type = T::kSeconds,
       .default_text = "1.5",
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "A peer silent this long is declared dead (at least 3 heartbeats)",
       .support = S::kImplemented});
  add({.name = "request_timeout",
       .type = T::kSeconds,
       .default_text = "10",
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "How long eccmgr waits for each node's answer to a relayed console command",
       .support = S::kImplemented});
  add({.name = "health_report_interval",
       .type = T::kSeconds,
       .default_text = "10",
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "Every member logs its JSON health record and sends it to eccmgr this often",
       .support = S::kImplemented});
  add({.name = "curve",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "Encrypt and authenticate the bus with CURVE keys (false: plain text, tests only)",
       .support = S::kImplemented});
  add({.name = "curve_secret_key",
       .type = T::kString,
       .scopes = kMsgcServer,
       .reloadable = false,
       .doc = "This host's key pair file, mode 0600 (default <root>/etc/msgc.key; made if missing)",
       .support = S::kImplemented});
  add({.name = "curve_public_keys",
       .type = T::kString,
       .scopes = kMsgcServer,
       .doc = "Directory of <node>.pub files (default: msgc_keys beside msgc_server.conf)",
       .support = S::kImplemented});
  add({.name = "connect_timeout",
       .type = T::kSeconds,
       .default_text = "60",
       .scopes = kMsgcBoth,
       .doc = "Bus connect timeout",
       .support = S::kPlanned});
  add({.name = "idle_timeout",
       .type = T::kSeconds,
       .default_text = "30",
       .scopes = kMsgcBoth,
       .doc = "Drop a silent bus peer after this long",
       .support = S::kPlanned});
  add({.name = "keepalive_interval",
       .type = T::kSeconds,
       .default_text = "5",
       .scopes = kMsgcBoth,
       .doc = "Bus keepalive period",
       .support = S::kPlanned});
  add({.name = "reconnect_interval",
       .type = T::kSeconds,
       .default_text = "5",
       .scopes = kMsgcBoth,
       .doc = "Wait between bus reconnects",
       .support = S::kPlanned});
  // Read from msgc_server only (msgc/bus_options.h holds the defaults); msgc_client is parsed
  // for Momentum configurations and not read.
  add({.name = "max_backlog",
       .type = T::kInt,
       .default_text = "10000",
       .scopes = kMsgcServer,
       .reloadable = false,  // a ZeroMQ socket option of the links already open
       .min = 1,
       .doc = "Frames queued per peer before sends fail",
       .support = S::kImplemented});
  add({.name = "messages_per_iter",
       .type = T::kInt,
       .default_text = "1000",
       .scopes = kMsgcServer,
       .min = 1,
       .doc = "Frames handled per event-loop wakeup before other events run",
       .support = S::kImplemented});
  add({.name = "max_backlog",
       .type = T::kInt,
       .default_text = "5000",
       .scopes = {"msgc_client"},
       .min = 1,
       .doc = "Messages queued per peer before dropping"});
  add({.name = "messages_per_iter",
       .type = T::kInt,
       .default_text = "20",
       .scopes = {"msgc_client"},
       .min = 1,
       .doc = "Messages handled per event-loop turn"});
  add({.name = "tcpbuf_size",
       .type = T::kBytes,
       .default_text = "131072",
       .scopes = kMsgcBoth,
       .doc = "Bus socket buffer size"});
  add({.name = "server",
       .type = T::kList,
       .default_text = "( \"127.0.0.1:4809\" )",
       .scopes = {"msgc_client"},
       .doc = "Bus server(s) this client joins",
       .support = S::kPlanned});
  add({.name = "bind_address",
       .type = T::kString,
       .scopes = {"msgc_client"},
       .doc = "Source address of bus connections"});

  // eccmgr (eccluster.conf).
  add({.name = "status_http_listen",
       .type = T::kString,
       .default_text = "127.0.0.1:8081",
       .scopes = {"global"},
       .doc = "eccmgr: address of the HTTP /health, /metrics and web dashboard server, without "
              "authentication: keep it on loopback or a management network (empty: off)",
       .support = S::kImplemented});
  add({.name = "status_http_web_root",
       .type = T::kString,
       .scopes = {"global"},
       .doc = "eccmgr: directory of the web dashboard's files (empty: <root>/share/web)",
       .support = S::kImplemented});

  // Generic module switches.
  add({.name = "debug_level",
       .type = T::kEnum,
       .default_text = "error",
       .scopes = scope_sets::kModules,
       .enum_values = {"debug", "info", "notice", "warning", "error", "critical"},
       .doc = "Module debug level",
       .support = S::kPlanned});
  add({.name = "enabled",
       .type = T::kBool,
       .default_text = "true",
       .scopes = scope_sets::kModules,
       .doc = "Module on/off",
       .support = S::kPlanned});
}

}  // namespace ec::config
