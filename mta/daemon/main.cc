// ecmta: the MTA node daemon. Parses the command line and hands over to MtaDaemon.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

#include "common/config/check.h"
#include "common/config/loader.h"
#include "common/daemon/command_line.h"
#include "common/daemon/process_setup.h"
#include "common/log/logger.h"
#include "mta/daemon/check_config.h"
#include "mta/daemon/check_config_server.h"
#include "mta/daemon/mta_daemon.h"
#include "mta/version.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  ec::mta::MtaDaemonOptions options;
  std::string search_path, log_level = "info", log_file;
  po::options_description desc(
      "ecmta: the MTA node daemon (ESMTP listener, spool, delivery, cluster member)\n\n"
      "Usage: ecmta [options]\n\nOptions");
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("version", "print the version and exit")
    ("config,c", po::value(&options.config_path)->default_value("ecelerity.conf"),
     "main configuration file; a relative name is found through the search path")
    ("root", po::value(&options.root)->default_value("/opt/ecmta"),
     "runtime root holding etc/, spool/, log/ and run/")
    ("node-name,n", po::value(&options.node_name),
     "this node's name: selects etc/conf/<name> in the search path and names the node in logs "
     "(default: $EC_NODE_NAME, else the short host name)")
    ("search-path", po::value(&search_path),
     "':'-separated config search path (default: $EC_CONF_SEARCH_PATH, else "
     "<root>/etc, <root>/etc/conf/global, <root>/etc/conf/<node>, <root>/etc/conf/default)")
    ("check-config", "parse and validate the configuration, print every problem with "
     "file:line, exit non-zero on error")
    ("check-config-server", "for eccfg pull --watch: read check requests on stdin, run each "
     "as --check-config with the request's options in a forked child, reply on stdout")
    ("foreground,f", "stay in the foreground (do not detach)")
    ("log-level", po::value(&log_level)->default_value("info"),
     "process log level: error, warn, info, debug, trace")
    ("log-file", po::value(&log_file),
     "process log file (default: stderr in the foreground, <root>/log/ecmta.log otherwise)");
  // clang-format on
  po::variables_map vm;
  if (auto rc =
          ec::daemon::ParseCommandLine("ecmta", ec::mta::VersionString(), desc, argc, argv, &vm))
    return *rc;
  options.node_name = ec::daemon::NodeNameOrEnvironment(options.node_name);
  if (!search_path.empty()) options.search_path = ec::config::SplitSearchPath(search_path);

  if (vm.count("check-config")) {
    return ec::mta::CheckConfigCommand(options.config_path, options.root, options.node_name,
                                       search_path, std::cout);
  }
  if (vm.count("check-config-server")) return ec::mta::CheckConfigServerMain(0, 1);

  return ec::daemon::RunDaemon({.program = "ecmta",
                                .root = options.root,
                                .node_name = options.node_name,
                                .log_level = log_level,
                                .log_file = log_file,
                                .foreground = vm.count("foreground") > 0},
                               [&] { return ec::mta::MtaDaemon::Create(options); });
}
