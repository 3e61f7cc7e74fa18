#include "mta/cluster/shared_limits_config.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "common/config/name_regex.h"
#include "common/config/resolve.h"
#include "common/config/schema.h"
#include "common/config/text_util.h"
#include "mta/cluster/named_throttles.h"

namespace ec::mta::cluster {
namespace {

using config::Location;
using config::Scope;
using config::Value;

constexpr char kMax[] = "cluster_max_outbound_connections";
constexpr char kServerMax[] = "cluster_server_max_outbound_connections";
constexpr char kScopeMax[] = "cluster_scope_max_outbound_connections";
constexpr char kThrottleConnections[] = "cluster_outbound_throttle_connections";
constexpr char kThrottleMessages[] = "cluster_outbound_throttle_messages";

// A max_delay longer than this is a typo (minutes for seconds): limits would lag that long.
constexpr double kMaxDelayCeilingSeconds = 60;

struct Needed {
  const char* option;
  const char* type;     // the Replicate type, lower-case as ReplicateSpec holds it
  const char* written;  // as Momentum's docs and our shipped config write it
};
constexpr Needed kNeeded[] = {
    {kMax, "outbound_domains", "outbound_domains"},
    {kServerMax, "outbound_cidr", "outbound_cidr"},
    {kScopeMax, "outbound_binding_domains", "outbound_binding_domains"},
    {kThrottleMessages, "obtm", "OBTM"},
    {kThrottleConnections, "obtc", "OBTC"},
};

// The stanzas holding a setting, by type, their names as written ("" = not inside one).
struct Where {
  std::string group;
  std::string binding;
  std::string domain;
  std::string host;
};

bool SameLocation(const Location& a, const Location& b) {
  return a.line == b.line && a.column == b.column && a.file == b.file;
}

// Finds option `name` written at `at` under `scope`; fills `where` with its enclosing stanzas.
bool Locate(const Scope& scope, std::string_view name, const Location& at, Where* where) {
  for (const config::Option& o : scope.options) {
    if (o.name == name && SameLocation(o.location, at)) return true;
  }
  for (const Scope& child : scope.children) {
    if (!Locate(child, name, at, where)) continue;
    std::string n = child.name.value_or("");
    if (child.type == "binding_group") where->group = n;
    if (child.type == "binding") where->binding = n;
    if (child.type == "domain") where->domain = n;
    if (child.type == "host") where->host = n;
    return true;
  }
  return false;
}

struct Setting {
  Value value;
  Where where;  // empty: global (or the default)
};

// The setting of `option` that config::Eval picks for `path`, with where it is written.
std::optional<Setting> Find(const config::Config& config, const config::ScopePath& path,
                            const char* option) {
  auto r = config::Eval(config, config::DefaultSchema(), path, option);
  if (!r.ok()) return std::nullopt;
  Setting s{r->value, {}};
  if (!r->from_default) Locate(config.root, r->option, r->location, &s.where);
  return s;
}

// A connection cap: -1 (or malformed) is none.
std::optional<uint64_t> Cap(const Value& v) {
  auto n = v.AsInt();
  if (!n.ok() || *n < 0) return std::nullopt;
  return static_cast<uint64_t>(*n);
}

// A throttle: 0 is none, as for the node-local outbound_throttle_*.
std::optional<config::Rate> Throttle(const Value& v) {
  auto r = v.AsRate();
  if (!r.ok() || r->count <= 0) return std::nullopt;
  return *r;
}

config::ScopePath Path(const outbound::LimitScope& s, bool with_domain, bool with_host) {
  config::ScopePath p;
  p.binding_group = s.binding_group;
  p.binding = s.binding;
  if (with_domain) p.domain = s.domain;
  if (with_host) p.host = s.host;
  return p;
}

// A /regex/ name stays as written; an exact one matches any case, so it is lower-cased.
std::string NameKey(const std::string& name) {
  return config::IsRegexName(name) ? name : config::ToLower(name);
}

// "binding/<b>/" or "group/<g>/" for a setting inside a Binding or (only) a Binding_Group.
std::string Enclosing(const Where& w) {
  if (!w.binding.empty()) return "binding/" + w.binding + "/";
  if (!w.group.empty()) return "group/" + w.group + "/";
  return "";
}

// The stanza itself, for cluster_scope_max_outbound_connections.
std::string Compact(const Where& w) {
  std::vector<std::string> parts;
  if (!w.group.empty()) parts.push_back("group/" + w.group);
  if (!w.binding.empty()) parts.push_back("binding/" + w.binding);
  if (!w.host.empty()) {
    parts.push_back("host/" + NameKey(w.host));
  } else if (!w.domain.empty()) {
    parts.push_back(NameKey(w.domain));
  }
  if (parts.empty()) return "*";
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string ThrottleKey(std::string_view type, const Where& w, const std::string& domain) {
  std::string prefix = std::string(type) + "/";
  if (w.domain.empty() && w.binding.empty() && !w.group.empty()) {
    return prefix + "group/" + w.group;
  }
  return prefix + Enclosing(w) + domain;
}

void AddThrottle(const config::Config& config, const outbound::LimitScope& scope,
                 const char* option, std::string_view type, std::vector<LimitRule>* out) {
  auto s = Find(config, Path(scope, true, false), option);
  if (!s) return;
  if (auto rate = Throttle(s->value)) {
    out->push_back({ThrottleKey(type, s->where, scope.domain), static_cast<uint64_t>(rate->count),
                    static_cast<uint64_t>(rate->per_seconds) * 1000});
  }
}

void ConnectionRules(const config::Config& config, const outbound::LimitScope& scope,
                     std::vector<LimitRule>* out) {
  const config::ScopePath domain_path = Path(scope, true, false);
  if (auto s = Find(config, domain_path, kMax)) {
    if (auto cap = Cap(s->value)) {
      out->push_back({"outbound_domains/" + Enclosing(s->where) + scope.domain, *cap, 0});
    }
  }
  if (auto s = Find(config, Path(scope, false, false), kServerMax)) {
    if (auto cap = Cap(s->value)) {
      const Where& w = s->where;
      std::string name = !w.binding.empty() ? w.binding
                         : !w.group.empty() ? "group/" + w.group
                                            : "*";
      out->push_back({"outbound_cidr/" + name, *cap, 0});
    }
  }
  if (auto s = Find(config, domain_path, kScopeMax)) {
    if (auto cap = Cap(s->value)) {
      out->push_back({"outbound_binding_domains/" + Compact(s->where), *cap, 0});
    }
  }
  AddThrottle(config, scope, kThrottleConnections, "obtc", out);
}

void HostRules(const config::Config& config, const outbound::LimitScope& scope,
               std::vector<LimitRule>* out) {
  if (scope.host.empty()) return;
  const config::ScopePath host_path = Path(scope, true, true);
  if (auto s = Find(config, host_path, kMax); s && !s->where.host.empty()) {
    if (auto cap = Cap(s->value)) {
      out->push_back({"outbound_domains/" + Enclosing(s->where) + "host/" + scope.host, *cap, 0});
    }
  }
  if (auto s = Find(config, host_path, kScopeMax); s && !s->where.host.empty()) {
    if (auto cap = Cap(s->value)) {
      out->push_back({"outbound_binding_domains/" + Compact(s->where), *cap, 0});
    }
  }
}

// Whether a written limit asks for anything (its Replicate is needed): not -1, not a throttle
// of 0. A malformed value counts as set: the operator meant a limit.
bool AsksForLimit(const Value& v, bool throttle) {
  if (throttle) {
    auto r = v.AsRate();
    return !r.ok() || r->count > 0;
  }
  auto n = v.AsInt();
  return !n.ok() || *n != -1;
}

struct Problem {
  Location at;
  std::string text;  // after "file:line:column: "
};

void CheckLimits(const Scope& scope, const std::set<std::string>& types,
                 std::vector<Problem>* problems) {
  for (const config::Option& o : scope.options) {
    for (const Needed& n : kNeeded) {
      if (o.name != n.option || types.count(n.type)) continue;
      bool throttle = o.name == kThrottleMessages || o.name == kThrottleConnections;
      if (!AsksForLimit(o.value, throttle)) continue;
      problems->push_back(
          {o.location, o.spelling + " needs Replicate \"" + n.written + "\" in cluster { }"});
    }
  }
  for (const Scope& child : scope.children) CheckLimits(child, types, problems);
}

}  // namespace

std::vector<LimitRule> ResolveLimits(const config::Config& config,
                                     const outbound::LimitScope& scope, LimitUnit unit) {
  std::vector<LimitRule> out;
  switch (unit) {
    case LimitUnit::kConnection:
      ConnectionRules(config, scope, &out);
      break;
    case LimitUnit::kHostConnection:
      HostRules(config, scope, &out);
      break;
    case LimitUnit::kMessage:
      AddThrottle(config, scope, kThrottleMessages, "obtm", &out);
      break;
  }
  return out;
}

std::vector<ReplicateSpec> ReadReplicateScopes(const config::Config& config) {
  std::vector<ReplicateSpec> out;
  for (const Scope* cluster : config.root.Children("cluster")) {
    for (const Scope* r : cluster->Children("replicate")) {
      ReplicateSpec spec;
      spec.name = r->name.value_or("");
      spec.type = config::ToLower(spec.name);
      if (const config::Option* o = r->FindOption("type"); o && o->value.is_scalar()) {
        spec.type = config::ToLower(o->value.text());
      }
      if (const config::Option* o = r->FindOption("max_delay")) {
        if (auto secs = o->value.AsSeconds(); secs.ok()) {
          spec.max_delay = std::chrono::milliseconds(std::llround(*secs * 1000));
        }
      }
      if (const config::Option* o = r->FindOption("max_pending")) {
        if (auto n = o->value.AsInt(); n.ok() && *n >= 1)
          spec.max_pending = static_cast<uint64_t>(*n);
      }
      if (const config::Option* o = r->FindOption("binding_group"); o && o->value.is_scalar()) {
        spec.binding_group = o->value.text();
      }
      out.push_back(std::move(spec));
    }
  }
  return out;
}

std::string_view RequiredReplicateType(std::string_view option) {
  for (const Needed& n : kNeeded) {
    if (option == n.option) return n.type;
  }
  return {};
}

Status ValidateClusterLimits(const config::Config& config) {
  std::set<std::string> types;
  for (const ReplicateSpec& r : ReadReplicateScopes(config)) types.insert(r.type);
  std::vector<Problem> problems;
  CheckLimits(config.root, types, &problems);
  for (LimitProblem& p : CheckSharedThrottles(config, types)) {
    problems.push_back({std::move(p.at), std::move(p.text)});
  }
  for (const Scope* cluster : config.root.Children("cluster")) {
    for (const Scope* r : cluster->Children("replicate")) {
      const config::Option* o = r->FindOption("max_delay");
      if (!o) continue;
      auto secs = o->value.AsSeconds();  // malformed: the schema check reports it
      if (secs.ok() && (*secs <= 0 || *secs > kMaxDelayCeilingSeconds)) {
        problems.push_back({o->location, o->spelling + " of " + r->Label() +
                                             " must be more than 0 and at most 60 seconds"});
      }
    }
  }
  if (problems.empty()) return Status::Ok();
  // In file order, as the operator reads the file (files in the order they were opened).
  auto file_index = [&config](const std::string& file) {
    return std::find(config.files.begin(), config.files.end(), file) - config.files.begin();
  };
  std::stable_sort(problems.begin(), problems.end(), [&](const Problem& a, const Problem& b) {
    return std::tuple(file_index(a.at.file), a.at.line, a.at.column) <
           std::tuple(file_index(b.at.file), b.at.line, b.at.column);
  });
  std::string message;
  for (const Problem& p : problems) {
    message += (message.empty() ? "" : "\n") + p.at.ToString() + ": " + p.text;
  }
  return InvalidArgument(message);
}

LimitResolver::LimitResolver(std::shared_ptr<const config::Config> config)
    : config_(std::move(config)) {}

const std::vector<LimitRule>& LimitResolver::Resolve(const outbound::LimitScope& scope,
                                                     LimitUnit unit) {
  std::string key;
  key.reserve(scope.binding.size() + scope.binding_group.size() + scope.domain.size() +
              scope.host.size() + 5);
  key += static_cast<char>('0' + static_cast<int>(unit));
  for (const std::string* part :
       {&scope.binding_group, &scope.binding, &scope.domain, &scope.host}) {
    key += '\0';
    key += *part;
  }
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxEntries) cache_.clear();
  return cache_.emplace(std::move(key), ResolveLimits(*config_, scope, unit)).first->second;
}

}  // namespace ec::mta::cluster
