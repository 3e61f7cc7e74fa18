#include "mta/cluster/named_throttles.h"

#include "common/config/text_util.h"
#include "msgc/bus_config.h"

namespace ec::mta::cluster {
namespace {

void CheckNames(const config::Scope& scope, const std::map<std::string, LimitRule>& defined,
                std::vector<LimitProblem>* out) {
  for (const config::Option& o : scope.options) {
    if (o.name != "shared_throttle" || !o.value.is_scalar()) continue;
    if (defined.contains(config::ToLower(o.value.text()))) continue;
    out->push_back({o.location, o.spelling + " \"" + o.value.text() +
                                    "\" names no Shared_Throttle (define Shared_Throttle \"" +
                                    o.value.text() + "\" { messages = \"N/secs\" })"});
  }
  for (const config::Scope& child : scope.children) CheckNames(child, defined, out);
}

}  // namespace

std::map<std::string, LimitRule> ReadSharedThrottles(const config::Config& config) {
  std::map<std::string, LimitRule> out;
  for (const config::Scope* s : config.root.Children("shared_throttle")) {
    const std::string name = config::ToLower(s->name.value_or(""));
    LimitRule rule{.key = std::string(kNamedThrottleType) + "/" + name};
    if (const config::Option* o = s->FindOption("messages")) {
      if (auto rate = o->value.AsRate(); rate.ok() && rate->count > 0 && rate->per_seconds > 0) {
        rule.limit = static_cast<uint64_t>(rate->count);
        rule.window_ms = static_cast<uint64_t>(rate->per_seconds) * 1000;
      }
    }
    out[name] = std::move(rule);
  }
  return out;
}

std::vector<LimitProblem> CheckSharedThrottles(const config::Config& config,
                                               const std::set<std::string>& replicate_types) {
  std::vector<LimitProblem> out;
  const std::map<std::string, LimitRule> defined = ReadSharedThrottles(config);
  // A single node counts its throttles alone; a cluster must share them or each node would
  // accept the whole limit.
  if (msgc::HasBusConfig(config) && !replicate_types.contains(kNamedThrottleType)) {
    for (const config::Scope* s : config.root.Children("shared_throttle")) {
      if (defined.at(config::ToLower(s->name.value_or(""))).limit == 0) continue;
      const config::Option* o = s->FindOption("messages");
      out.push_back({o ? o->location : s->location,
                     s->Label() + " needs Replicate \"" + kNamedThrottleType +
                         "\" in cluster { } (this node has msgc_server peers)"});
    }
  }
  CheckNames(config.root, defined, &out);
  return out;
}

}  // namespace ec::mta::cluster
