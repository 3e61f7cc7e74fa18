#include "common/config/check.h"

#include <algorithm>

#include "common/config/validate.h"

namespace ec::config {
namespace {

std::shared_ptr<const Config> ParseAndValidate(const std::string& path, const LoadOptions& load,
                                               const SchemaRegistry& schema, Diagnostics* diags) {
  std::shared_ptr<const Config> config = ParseConfigFile(path, load, diags);
  Diagnostics more = Validate(*config, schema);
  diags->insert(diags->end(), more.begin(), more.end());
  return config;
}

}  // namespace

CheckOptions DaemonCheckOptions(std::string config_path, std::string root, std::string node_name,
                                std::vector<std::string> search_path) {
  CheckOptions check;
  check.config_path = std::move(config_path);
  check.load.root = std::move(root);
  check.load.node_name = std::move(node_name);
  check.load.search_path = std::move(search_path);
  return check;
}

int CheckConfigMain(const CheckOptions& options, std::ostream& out) {
  const SchemaRegistry& schema = options.schema ? *options.schema : DefaultSchema();
  Diagnostics diags;
  std::shared_ptr<const Config> config =
      ParseAndValidate(options.config_path, options.load, schema, &diags);
  SortByLocation(*config, &diags);
  size_t errors = 0, warnings = 0;
  for (const Diagnostic& d : diags) {
    out << d.ToString() << "\n";
    (d.severity == Severity::kError ? errors : warnings)++;
  }
  if (errors > 0 || (options.warnings_as_errors && warnings > 0)) {
    out << options.config_path << ": " << errors << " error(s), " << warnings << " warning(s)\n";
    return 1;
  }
  out << "configuration OK (" << config->files.size() << " files";
  if (warnings > 0) out << ", " << warnings << " warning(s)";
  out << ")\n";
  return 0;
}

Result<std::shared_ptr<const Config>> LoadConfig(const std::string& path,
                                                 const LoadOptions& options,
                                                 const SchemaRegistry& schema, Diagnostics* diags) {
  Diagnostics local;
  Diagnostics* d = diags ? diags : &local;
  size_t start = d->size();
  std::shared_ptr<const Config> config = ParseAndValidate(path, options, schema, d);
  size_t errors = static_cast<size_t>(
      std::count_if(d->begin() + static_cast<std::ptrdiff_t>(start), d->end(),
                    [](const Diagnostic& x) { return x.severity == Severity::kError; }));
  if (errors == 0) return config;
  auto first = std::find_if(d->begin() + static_cast<std::ptrdiff_t>(start), d->end(),
                            [](const Diagnostic& x) { return x.severity == Severity::kError; });
  return InvalidArgument(std::to_string(errors) +
                         " configuration error(s); first: " + first->ToString());
}

}  // namespace ec::config
