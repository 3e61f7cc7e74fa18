#include "manager/logs/subscriptions.h"

#include <optional>

namespace ec::logcollect {
namespace {

// The `subscriber` set directly in `scope`, if any.
Result<std::optional<std::vector<std::string>>> SubscriberOption(const config::Scope& scope) {
  const config::Option* o = scope.FindOption("subscriber");
  if (o == nullptr) return std::optional<std::vector<std::string>>();
  std::vector<std::string> names;
  if (o->value.is_scalar()) {
    names.push_back(o->value.text());
  } else {
    auto list = o->value.AsStringList();
    if (!list.ok()) return list.status().WithContext(o->location.ToString());
    names = std::move(list).value();
  }
  for (const std::string& n : names) {
    // The name is a word of a `journal read` command line.
    if (n.empty() || n.find_first_of(" \t\r\n") != std::string::npos) {
      return InvalidArgument(o->location.ToString() + ": subscriber \"" + n +
                             "\" is not a journal subscriber name");
    }
  }
  return std::optional<std::vector<std::string>>(std::move(names));
}

}  // namespace

Result<std::vector<std::string>> SubscribersFor(const config::Config& config,
                                                const std::string& manager,
                                                const std::string& node) {
  std::optional<std::vector<std::string>> at_manager, at_node;
  for (const config::Scope* logs : config.root.Children("logs")) {
    for (const config::Scope* m : logs->Children("manager", manager)) {
      EC_ASSIGN_OR_RETURN(auto here, SubscriberOption(*m));
      if (here) at_manager = std::move(here);
      for (const config::Scope* n : m->Children("node", node)) {
        EC_ASSIGN_OR_RETURN(auto inner, SubscriberOption(*n));
        if (inner) at_node = std::move(inner);
      }
    }
  }
  if (at_node) return std::move(*at_node);
  if (at_manager) return std::move(*at_manager);
  if (manager == "master") return std::vector<std::string>{"master"};
  return std::vector<std::string>{manager, "master"};
}

}  // namespace ec::logcollect
