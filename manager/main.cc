// eccmgr: the cluster manager daemon. Parses the command line and hands over to ManagerDaemon.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "common/config/check.h"
#include "common/config/loader.h"
#include "common/control/listener_config.h"
#include "common/daemon/command_line.h"
#include "common/daemon/process_setup.h"
#include "common/log/logger.h"
#include "manager/logs/tail_command.h"
#include "manager/manager_daemon.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  if (argc >= 3 && std::string_view(argv[1]) == "logs" && std::string_view(argv[2]) == "tail") {
    return ec::logcollect::LogsTailMain(argc - 2, argv + 2);
  }
  ec::manager::ManagerDaemonOptions options;
  std::string search_path, log_level = "info", log_file;
  po::options_description desc(
      "eccmgr: the cluster manager (bus member, membership and health view, console fan-out,\n"
      "HTTP /health and /metrics, log aggregation)\n\nUsage: eccmgr [options]\n       eccmgr logs "
      "tail [-f] [--node N] [--log L] [-n LINES] [--root R] [--config F]\n\nOptions");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config,c", po::value(&options.config_path)->default_value("eccluster.conf"),
     "main configuration file; a relative name is found through the search path")
    ("root", po::value(&options.root)->default_value("/opt/ecmta"),
     "runtime root holding etc/, log/ and run/")
    ("node-name,n", po::value(&options.node_name),
     "this manager's bus name, as listed in msgc_server peers (default: $EC_NODE_NAME, else "
     "the short host name)")
    ("search-path", po::value(&search_path),
     "':'-separated config search path (default: $EC_CONF_SEARCH_PATH, else "
     "<root>/etc, <root>/etc/conf/global, <root>/etc/conf/<node>, <root>/etc/conf/default)")
    ("http", po::value(&options.http_address),
     "HTTP address of /health and /metrics, overriding status_http_listen (\"off\": none)")
    ("check-config", "parse and validate the configuration, print every problem with "
     "file:line, exit non-zero on error")
    ("foreground,f", "stay in the foreground (do not detach)")
    ("log-level", po::value(&log_level)->default_value("info"),
     "process log level: error, warn, info, debug, trace")
    ("log-file", po::value(&log_file),
     "process log file (default: stderr in the foreground, <root>/log/eccmgr.log otherwise)");
  // clang-format on
  po::variables_map vm;
  if (auto rc = ec::daemon::ParseCommandLine("eccmgr", std::string("eccmgr ") + EC_VERSION, desc,
                                             argc, argv, &vm))
    return *rc;
  options.node_name = ec::daemon::NodeNameOrEnvironment(options.node_name);
  if (!search_path.empty()) options.search_path = ec::config::SplitSearchPath(search_path);
  if (vm.count("check-config")) {
    auto check = ec::config::DaemonCheckOptions(options.config_path, options.root,
                                                options.node_name, options.search_path);
    if (int rc = ec::config::CheckConfigMain(check, std::cout); rc != 0) return rc;
    return ec::control::CheckControlListener(check, std::cout);
  }
  return ec::daemon::RunDaemon({.program = "eccmgr",
                                .root = options.root,
                                .node_name = options.node_name,
                                .log_level = log_level,
                                .log_file = log_file,
                                .foreground = vm.count("foreground") > 0},
                               [&] { return ec::manager::ManagerDaemon::Create(options); });
}
