// The one validation entry point for daemons (`--check-config`), eccfg and ec_conf: load a
// config with its includes, validate it against the schema, print every problem as
// "file:line:column: error: message". Also LoadConfig, the strict loader daemons start from.
// Stateless; any thread.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "common/base/status.h"
#include "common/config/loader.h"
#include "common/config/schema.h"
#include "common/config/tree.h"

namespace ec::config {

struct CheckOptions {
  std::string config_path;
  LoadOptions load;
  const SchemaRegistry* schema = nullptr;  // null: DefaultSchema()
  bool warnings_as_errors = false;
};

// The check `<daemon> --check-config` runs: the files a start with the same --config, --root,
// node name and search path would load.
CheckOptions DaemonCheckOptions(std::string config_path, std::string root, std::string node_name,
                                std::vector<std::string> search_path);

// Prints each problem on its own line, then a summary. Returns 0 and prints
// "configuration OK (<n> files)" when there is no error, else 1.
int CheckConfigMain(const CheckOptions& options, std::ostream& out);

// Parses and validates; fails (kInvalidArgument, "N configuration errors; first: ...") if any
// error was found. `diags` (optional) receives every problem, warnings included.
Result<std::shared_ptr<const Config>> LoadConfig(const std::string& path,
                                                 const LoadOptions& options,
                                                 const SchemaRegistry& schema = DefaultSchema(),
                                                 Diagnostics* diags = nullptr);

}  // namespace ec::config
