// ecconfigd: the config repository daemon. Parses options and hands over to daemon.cc.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

#include "common/daemon/process_setup.h"
#include "common/daemon/root_layout.h"
#include "ecconfigd/daemon.h"
#include "ecconfigd/protocol.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string root, state_dir, seed, address, port_file, log_file, user, pid_file, bus_config,
      node_name;
  std::vector<std::string> subclusters;
  int port = 2027;
  int max_wait = 60;
  po::options_description opts(
      "Usage: ecconfigd [options]            serve the config repositories over HTTPS\n"
      "       ecconfigd passwd USER [options] set USER's push password (read from stdin)\n"
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
      ("log-file", po::value(&log_file), "process log file (default stderr)")
      ("pid-file", po::value(&pid_file),
       "pid file: one ecconfigd per file (default <root>/run/ecconfigd.pid)")
      ("bus-config", po::value(&bus_config),
       "msgc_server.conf naming the bus peers; each new revision is announced on group "
       "ec_config (default <root>/etc/conf/global/msgc_server.conf; missing: no bus)")
      ("node-name", po::value(&node_name),
       "this host's name on the bus (default: $EC_NODE_NAME, else the short host name)")
      ("foreground", "do not detach")
      ("config", po::value<std::string>(), "accepted for symmetry with other daemons; unused")
      ("check-config", "check the options and exit");
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
    if (vm["command"].as<std::string>() != "passwd" || user.empty()) {
      std::cerr << "ecconfigd: unknown command (expected: passwd USER)\n";
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
  options.foreground = vm.count("foreground") > 0;
  options.port_file = port_file;
  options.log_file = log_file;
  options.pid_file = pid_file;
  options.bus_config = bus_config;
  options.bus_secret_key = layout.etc / "msgc.key";
  options.node_name = node_name;
  for (const std::string& name : options.server.subclusters) {
    if (!ec::ecconfigd::ValidSubclusterName(name)) {
      std::cerr << "ecconfigd: bad subcluster name '" << name << "' (letters, digits, _ and -)\n";
      return 1;
    }
  }
  if (vm.count("check-config")) return 0;
  return ec::ecconfigd::RunDaemon(options);
}
