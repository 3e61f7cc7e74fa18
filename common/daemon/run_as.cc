#include "common/daemon/run_as.h"

#include <unistd.h>

#include "common/config/schema.h"
#include "common/daemon/ownership.h"

namespace ec::daemon {

Result<PrivilegeSpec> PrivilegeSpecFromConfig(const config::Config& config) {
  PrivilegeSpec spec;
  if (const config::OptionSpec* o = config::DefaultSchema().FindOption("user", "security")) {
    if (o->default_value) spec.user = o->default_value->text();
  }
  spec.where = (config.files.empty() ? std::string("<default>") : config.files.front()) +
               " (Security { user } default)";
  const config::Option* caps = nullptr;
  for (const config::Scope* security : config.root.Children("security")) {
    if (const config::Option* o = security->FindOption("user")) {
      spec.user = o->value.text();
      spec.where = o->location.ToString();
    }
    if (const config::Option* o = security->FindOption("group")) spec.group = o->value.text();
    if (const config::Option* o = security->FindOption("capabilities")) caps = o;
  }
  if (caps != nullptr) {
    auto parsed = ParseCapabilities(caps->value.text());
    if (!parsed.ok()) {
      return InvalidArgument(caps->location.ToString() + ": " + parsed.status().message());
    }
    spec.capabilities = std::move(parsed).value();
  }
  return spec;
}

Status RunAsConfiguredUser(const PrivilegeSpec& spec, const RootLayout& layout,
                           const std::vector<std::filesystem::path>& extra_dirs) {
  if (geteuid() == 0 && !spec.user.empty()) {
    EC_ASSIGN_OR_RETURN(Account account, LookUpAccount(spec));
    EC_RETURN_IF_ERROR(OwnLayout(layout, account, extra_dirs));
  }
  return DropPrivileges(spec);
}

}  // namespace ec::daemon
