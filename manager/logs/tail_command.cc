#include "manager/logs/tail_command.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "common/config/check.h"
#include "common/config/loader.h"
#include "common/daemon/process_setup.h"
#include "manager/logs/logs_config.h"
#include "manager/logs/tail.h"

namespace ec::logcollect {

int LogsTailMain(int argc, char** argv) {
  config::LoadOptions load;
  load.node_name = daemon::NodeNameOrEnvironment("");
  std::string config_path = "eccluster.conf";
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string w = argv[i];
    bool takes_value =
        w == "--root" || w == "--config" || w == "--search-path" || w == "--node-name";
    if (takes_value && i + 1 >= argc) {
      std::cerr << "eccmgr logs tail: " << w << " needs a value\n";
      return 2;
    }
    if (w == "--root") {
      load.root = argv[++i];
    } else if (w == "--config") {
      config_path = argv[++i];
    } else if (w == "--node-name") {
      load.node_name = argv[++i];
    } else if (w == "--search-path") {
      load.search_path = config::SplitSearchPath(argv[++i]);
    } else {
      words.push_back(w);
    }
  }
  auto tail = ParseTailArgs(words);
  if (!tail.ok()) {
    std::cerr << "eccmgr " << tail.status().message() << "\n";
    return 2;
  }
  auto config = config::LoadConfig(config_path, load);
  if (!config.ok()) {
    std::cerr << "eccmgr logs tail: " << config.status().message() << "\n";
    return 1;
  }
  auto setup = CollectorSetupFromConfig(**config, "", "");
  if (!setup.ok() || !*setup) {
    std::cerr << "eccmgr logs tail: "
              << (setup.ok() ? "no Logs { } scope in " + config_path : setup.status().message())
              << "\n";
    return 1;
  }
  tail->log_root = (*setup)->options.log_root;
  tail->pattern = (*setup)->options.pattern;
  Status s = RunTail(*tail, std::cout);
  if (!s.ok()) {
    std::cerr << "eccmgr logs tail: " << s.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace ec::logcollect
