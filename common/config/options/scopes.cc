// Every scope type the language knows, with where it may appear (momentum-options.md, Scopes).
#include "common/config/schema.h"

namespace ec::config {

void RegisterScopes(SchemaRegistry* r) {
  using N = ScopeNaming;
  const std::vector<std::string> kGlobal = {"global"};
  const std::vector<std::string> kListeners = {"esmtp_listener", "control_listener",
                                               "eccluster_listener", "ecstream_listener",
                                               "msgcserver_listener"};
  auto add = [r](ScopeSpec s) { r->AddScope(std::move(s)); };
  // Node.
  // ecelerity-cluster.conf repeats Security to override ecelerity.conf's: stanzas merge.
  add({"security", N::kSingleton, kGlobal, false, "Privilege drop after startup"});
  add({"threadpool", N::kNamed, kGlobal, true, "A named thread pool"});
  add({"eventloop", N::kNamed, kGlobal, true, "A named event-loop pool"});
  add({"debug_flags", N::kSingleton, kGlobal, true, "Paniclog subsystems per level"});
  add({"authorization", N::kSingleton, kGlobal, true, "Console roles"});
  add({"role", N::kNamed, {"authorization"}, true, "A console role: allow = ( regex ... )"});
  // Listeners (inbound).
  add({"esmtp_listener", N::kSingleton, kGlobal, true, "The SMTP service"});
  // Both open once at start: a reload leaves their sockets as they are (MtaDaemon::Reload).
  add({"control_listener", N::kSingleton, kGlobal, true,
       "The console (ec_console) service; opened at start (restart to change it)"});
  add({"eccluster_listener", N::kSingleton, kGlobal, true,
       "Node-to-node TCP: log pulls and message moves; its Listen sockets open at start, a "
       "reload changes only the bus peers and managers it trusts"});
  // Parsed for Momentum configurations; ecmta opens neither.
  add({"ecstream_listener", N::kSingleton, kGlobal, true,
       "The ECStream service (not opened: its options are ignored)"});
  add({"msgcserver_listener", N::kSingleton, kGlobal, true,
       "The cluster bus listener (ignored: the bus listens on msgc_server's address and port)"});
  add({"listen", N::kNamed, kListeners, true,
       "One listening socket: \"ip:port\", \":port\", \"[v6]:port\" or a unix path"});
  add({"peer",
       N::kNamed,
       {"esmtp_listener", "control_listener", "ecstream_listener", "listen"},
       true,
       "Per-client overrides by CIDR; the most specific match wins"});
  add({"pathway", N::kNamed, {"global", "pathway_group"}, true, "A named inbound-option bundle"});
  add({"pathway_group", N::kNamed, kGlobal, false, "A group of pathways"});
  // Outbound.
  add({"binding_group", N::kNamed, kGlobal, false, "A group of bindings; stanzas merge"});
  add({"binding",
       N::kNamed,
       {"global", "binding_group"},
       true,
       "An outbound identity: source address and limits"});
  add({"domain",
       N::kNamed,
       {"global", "binding", "binding_group"},
       false,
       "Per-destination settings; name, IP literal or /regex/"});
  add({"host", N::kNamed, {"global", "binding", "binding_group"}, false, "Per-MX-host settings"});
  // Modules and cluster.
  add({"cluster", N::kSingleton, kGlobal, true, "The cluster module"});
  add({"replicate", N::kNamed, {"cluster"}, true, "Cluster-replicated data"});
  add({"shared_throttle", N::kNamed, kGlobal, true,
       "A named throttle counted cluster-wide, taken by inbound scopes' shared_throttle"});
  add({"topology", N::kNamed, {"cluster"}, true, "How DuraVIP plumbs addresses in a CIDR"});
  add({"msgc_server", N::kSingleton, kGlobal, true,
       "The cluster bus peers (msgc_server.conf); ecmta joins the bus only if it is there at "
       "start"});
  add({"msgc_client", N::kSingleton, kGlobal, true, "How this process joins the cluster bus"});
  add({"ec_logger", N::kOptionalName, kGlobal, true, "A logger instance: mainlog, rejectlog ..."});
  add({"bounce_logger", N::kOptionalName, kGlobal, true, "A bounce logger instance"});
  // Manager (eccluster.conf).
  add({"logs", N::kSingleton, kGlobal, true, "Log aggregation on the manager"});
  add({"manager", N::kNamed, {"logs"}, true, "Per-manager log subscriptions"});
  add({"node", N::kNamed, {"manager"}, true, "One node's log subscription"});
}

}  // namespace ec::config
