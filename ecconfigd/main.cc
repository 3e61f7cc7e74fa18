// ecconfigd: the config repository daemon. Parses options and hands over to daemon.cc.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

#include "common/daemon/process_setup.h"
#include "common/daemon/root_layout.h"
#include "ecconfigd/daemon.h"
#include "ecconfigd/enroll_command.h"
#include "ecconfigd/protocol.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string root, state_dir, seed, address, port_file, log_file, user, pid_file, bus_config,
      node_name, config, ttl, enrol_address, manager, node_root;
  std::vector<std::string> subclusters;
  int port = 2027;
  int max_wait = 60;
  // Input limits (docs/config-workflow.md, "Limits"); the defaults live in ServerOptions.
  const ec::ecconfigd::ServerOptions defaults;
  size_t max_header_bytes = defaults.http.max_header_bytes;
  size_t max_push_bytes = defaults.max_push_bytes;
  size_t max_connections = defaults.http.max_connections;
  size_t max_per_address = defaults.http.max_connections_per_address;
  int request_timeout = static_cast<int>(defaults.http.request_timeout.count() / 1000);
  int max_login_failures = defaults.throttle.max_failures;
  int login_window = static_cast<int>(defaults.throttle.window.count());
  po::options_description opts(
      "Usage: ecconfigd [options]            serve the config repositories over HTTPS\n"
      "       ecconfigd passwd USER [options] set USER's push password (read from stdin)\n"
      "       ecconfigd enroll NODE [--ttl 1h] --manager HOST[:PORT] [--address A]\n"
      "                     register a new node; prints its one-time enrolment command\n"
      "       ecconfigd revoke NODE [options]  remove NODE's fetch credential (at once)\n"
      "Options");
  // clang-format off
  opts.add_options()
      ("help,h", "print this help")
      ("root", po::value(&root)->default_value("/opt/ecmta"),
       "root directory; the defaults below live under it")
      ("state-dir", po::value(&state_dir),
       "repositories (<subcluster>.git), server.crt/server.key, cluster.secret and passwd "
       "(default <root>/ecconfigd)")
      ("seed", po::value(&seed),
       "directory tree a new repository is created from (default <root>/share/conf)")
      ("subcluster", po::value(&subclusters)->composing(),
       "subcluster to serve (repeatable; default: default)")
      ("listen", po::value(&address)->default_value("127.0.0.1"), "address to listen on")
      ("port", po::value(&port)->default_value(2027), "HTTPS port (0: any free port)")
      ("port-file", po::value(&port_file), "write the bound port to this file once listening")
      ("max-wait", po::value(&max_wait)->default_value(60), "longest long poll, seconds")
      ("max-header-bytes", po::value(&max_header_bytes)->default_value(max_header_bytes),
       "largest request head (request line and headers); larger: 431")
      ("max-push-bytes", po::value(&max_push_bytes)->default_value(max_push_bytes),
       "largest push (a pack of the new revisions); larger: 413")
      ("max-connections", po::value(&max_connections)->default_value(max_connections),
       "open connections in total; more are closed at once")
      ("max-connections-per-address",
       po::value(&max_per_address)->default_value(max_per_address),
       "open connections from one client address; more are closed at once")
      ("request-timeout", po::value(&request_timeout)->default_value(request_timeout),
       "seconds from connect to the end of the request; slower: 408 and closed")
      ("max-login-failures", po::value(&max_login_failures)->default_value(max_login_failures),
       "failed logins from one address within --login-window before it gets 429")
      ("login-window", po::value(&login_window)->default_value(login_window),
       "seconds over which failed logins are counted (and an address is held back)")
      ("log-file", po::value(&log_file), "process log file (default stderr)")
      ("pid-file", po::value(&pid_file),
       "pid file: one ecconfigd per file (default <root>/run/ecconfigd.pid)")
      ("bus-config", po::value(&bus_config),
       "msgc_server.conf naming the bus peers; each new revision is announced on group "
       "ec_config (default <root>/etc/conf/global/msgc_server.conf; missing: no bus)")
      ("node-name", po::value(&node_name),
       "this host's name on the bus (default: $EC_NODE_NAME, else the short host name)")
      ("foreground", "do not detach")
      ("config", po::value(&config),
       "file whose Security { user group capabilities } ecconfigd runs as, usually the "
       "manager's eccluster.conf (relative: found on <root>'s search path; default: none, keep "
       "the starting identity)")
      ("check-config", "check the options and exit")
      ("ttl", po::value(&ttl)->default_value("1h"),
       "enroll: how long the token stays valid (90s, 30m, 1h, 2d)")
      ("manager", po::value(&manager),
       "enroll: HOST[:PORT] the new host reaches ecconfigd at (default: --listen and --port "
       "when that is not a wildcard)")
      ("address", po::value(&enrol_address),
       "enroll: the node's bus address for the peers list (default: the address it enrols "
       "from)")
      ("node-root", po::value(&node_root)->default_value("/opt/ecmta"),
       "enroll: the new host's root directory, for the printed command");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("user", po::value(&user));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("user", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "ecconfigd: " << e.what() << " (see --help)\n";
    return 1;
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return 0;
  }
  if (state_dir.empty()) state_dir = root + "/ecconfigd";
  if (seed.empty()) seed = root + "/share/conf";
  const auto layout = ec::daemon::RootLayout::FromRoot(root);
  if (pid_file.empty()) pid_file = layout.PidFile("ecconfigd").string();
  if (bus_config.empty()) bus_config = (layout.etc / "conf/global/msgc_server.conf").string();
  node_name = ec::daemon::NodeNameOrEnvironment(node_name);
  if (node_name.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) node_name = host;
    node_name = node_name.substr(0, node_name.find('.'));
  }
  if (vm.count("command")) {
    const std::string command = vm["command"].as<std::string>();
    if (command == "enroll" && !user.empty()) {
      ec::ecconfigd::EnrollOptions enroll;
      enroll.state_dir = state_dir;
      enroll.node = user;
      if (!subclusters.empty()) enroll.subcluster = subclusters.front();
      enroll.address = enrol_address;
      enroll.manager = manager;
      if (enroll.manager.empty() && address != "0.0.0.0" && address != "::" && port != 0) {
        enroll.manager = address + ":" + std::to_string(port);
      }
      enroll.ttl = ttl;
      enroll.node_root = node_root;
      return ec::ecconfigd::RunEnroll(enroll, std::cout, std::cerr);
    }
    if (command == "revoke" && !user.empty()) {
      return ec::ecconfigd::RunRevoke(state_dir, user, std::cout, std::cerr);
    }
    if (command != "passwd" || user.empty()) {
      std::cerr << "ecconfigd: unknown command (expected: passwd USER, enroll NODE or revoke "
                   "NODE)\n";
      return 1;
    }
    return ec::ecconfigd::RunPasswd(state_dir, user, std::cin);
  }
  if (port < 0 || port > 65535) {
    std::cerr << "ecconfigd: --port must be 0..65535\n";
    return 1;
  }
  ec::ecconfigd::DaemonOptions options;
  options.server.state_dir = state_dir;
  options.server.seed_dir = seed;
  if (!subclusters.empty()) options.server.subclusters = subclusters;
  options.server.address = address;
  options.server.port = static_cast<uint16_t>(port);
  options.server.max_wait = std::chrono::seconds(std::max(1, max_wait));
  options.server.http.max_header_bytes = std::max<size_t>(1024, max_header_bytes);
  options.server.max_push_bytes = max_push_bytes;
  options.server.http.max_connections = std::max<size_t>(1, max_connections);
  options.server.http.max_connections_per_address = std::max<size_t>(1, max_per_address);
  options.server.http.request_timeout = std::chrono::seconds(std::max(1, request_timeout));
  options.server.throttle.max_failures = std::max(1, max_login_failures);
  options.server.throttle.window = std::chrono::seconds(std::max(1, login_window));
  options.foreground = vm.count("foreground") > 0;
  options.port_file = port_file;
  options.log_file = log_file;
  options.pid_file = pid_file;
  options.bus_config = bus_config;
  options.bus_secret_key = layout.etc / "msgc.key";
  options.node_name = node_name;
  options.config = config;
  options.root = root;
  for (const std::string& name : options.server.subclusters) {
    if (!ec::ecconfigd::ValidSubclusterName(name)) {
      std::cerr << "ecconfigd: bad subcluster name '" << name << "' (letters, digits, _ and -)\n";
      return 1;
    }
  }
  if (vm.count("check-config")) return 0;
  return ec::ecconfigd::RunDaemon(options);
}
