#include "common/config/resolve.h"

#include <algorithm>

#include "common/net/cidr.h"
#include "common/config/name_regex.h"
#include "common/config/text_util.h"

namespace ec::config {

bool ScopePath::inbound() const {
  return !listener.empty() || !listen.empty() || !peer.empty() || !pathway.empty() ||
         !pathway_group.empty();
}

bool ScopePath::outbound() const {
  return !binding_group.empty() || !binding.empty() || !domain.empty() || !host.empty();
}

std::string ScopePath::ToString() const {
  std::string out;
  auto add = [&](const char* type, const std::string& v) {
    if (!v.empty()) out += (out.empty() ? "" : " ") + std::string(type) + " " + Quote(v);
  };
  add("binding_group", binding_group);
  add("binding", binding);
  add("domain", domain);
  add("host", host);
  if (!listener.empty()) out += (out.empty() ? "" : " ") + listener;
  add("listen", listen);
  add("peer", peer);
  add("pathway_group", pathway_group);
  add("pathway", pathway);
  return out.empty() ? "global" : out;
}

namespace {

// One level of the fallback chain: the scopes (merged stanzas) and how to name it.
struct Level {
  std::string label;
  std::vector<const Scope*> scopes;
};

bool RegexMatches(const std::string& name, const std::string& subject) {
  auto re = CompileNameRegex(name);  // refused patterns are reported by Validate
  return re.ok() && NameRegexMatches(*re, subject);
}

// Domain or Host stanzas of `container` for `name`: exact (any case) first, else the first
// /regex/ in file order that matches.
std::vector<const Scope*> MatchNamed(const std::vector<const Scope*>& containers,
                                     std::string_view type, const std::string& name) {
  std::vector<const Scope*> exact;
  for (const Scope* c : containers) {
    for (const Scope* s : c->Children(type)) {
      if (s->name && !IsRegexName(*s->name) && EqualsIgnoreCase(*s->name, name)) {
        exact.push_back(s);
      }
    }
  }
  if (!exact.empty()) return exact;
  for (const Scope* c : containers) {
    for (const Scope* s : c->Children(type)) {
      if (s->name && IsRegexName(*s->name) && RegexMatches(*s->name, name)) return {s};
    }
  }
  return {};
}

std::vector<const Scope*> Named(const std::vector<const Scope*>& containers, std::string_view type,
                                const std::string& name) {
  std::vector<const Scope*> out;
  for (const Scope* c : containers) {
    for (const Scope* s : c->Children(type, name)) out.push_back(s);
  }
  return out;
}

std::string Label(std::string_view type, const std::string& name) {
  return std::string(type) + " " + Quote(name);
}

void OutboundChain(const Config& config, ScopePath path, std::vector<Level>* chain) {
  const Scope* root = &config.root;
  if (path.binding_group.empty() && !path.binding.empty()) {
    for (const Scope* g : root->Children("binding_group")) {
      if (g->name && !g->Children("binding", path.binding).empty()) {
        path.binding_group = *g->name;
        break;
      }
    }
  }
  std::vector<const Scope*> groups, grouped_bindings, global_bindings;
  if (!path.binding_group.empty()) groups = Named({root}, "binding_group", path.binding_group);
  if (!path.binding.empty()) {
    grouped_bindings = Named(groups, "binding", path.binding);
    global_bindings = Named({root}, "binding", path.binding);
  }
  std::string g = path.binding_group.empty() ? "" : Label("binding_group", path.binding_group);
  std::string b = path.binding.empty() ? "" : Label("binding", path.binding);
  auto join = [](std::initializer_list<std::string> parts) {
    std::string out;
    for (const std::string& p : parts) {
      if (!p.empty()) out += (out.empty() ? "" : " > ") + p;
    }
    return out;
  };
  auto named_level = [&](std::string_view type, const std::string& name) {
    std::string l = Label(type, name);
    chain->push_back({join({g, b, l}), MatchNamed(grouped_bindings, type, name)});
    chain->push_back({join({b, l}), MatchNamed(global_bindings, type, name)});
    chain->push_back({join({g, l}), MatchNamed(groups, type, name)});
  };
  if (!path.host.empty()) {
    named_level("host", path.host);
    chain->push_back({Label("host", path.host), MatchNamed({root}, "host", path.host)});
  }
  if (!path.domain.empty()) named_level("domain", path.domain);
  chain->push_back({join({g, b}), grouped_bindings});
  chain->push_back({b, global_bindings});
  chain->push_back({g, groups});
  if (!path.domain.empty()) {
    chain->push_back({Label("domain", path.domain), MatchNamed({root}, "domain", path.domain)});
  }
}

// The most specific Peer holding `ip` among `containers` (earlier containers win ties).
const Scope* BestPeer(const std::vector<const Scope*>& containers, const net::IpAddress& ip) {
  const Scope* best = nullptr;
  int best_prefix = -1;
  for (const Scope* c : containers) {
    for (const Scope* p : c->Children("peer")) {
      if (!p->name) continue;
      auto cidr = net::Cidr::Parse(*p->name);
      if (cidr.ok() && cidr->Contains(ip) && cidr->prefix_length() > best_prefix) {
        best = p;
        best_prefix = cidr->prefix_length();
      }
    }
  }
  return best;
}

Status InboundChain(const Config& config, ScopePath path, std::vector<Level>* chain) {
  const Scope* root = &config.root;
  if (path.listener.empty() && (!path.listen.empty() || !path.peer.empty())) {
    path.listener = "esmtp_listener";
  }
  path.listener = ToLower(path.listener);
  std::vector<const Scope*> listeners, listens;
  if (!path.listener.empty()) listeners = root->Children(path.listener);
  if (!path.listen.empty()) listens = Named(listeners, "listen", path.listen);
  if (!path.peer.empty()) {
    auto ip = net::IpAddress::Parse(path.peer);
    if (!ip) return InvalidArgument("peer: expected an IP address, found \"" + path.peer + "\"");
    std::vector<const Scope*> containers = listens;
    containers.insert(containers.end(), listeners.begin(), listeners.end());
    if (const Scope* peer = BestPeer(containers, *ip)) {
      chain->push_back({"peer " + Quote(*peer->name) + " (client " + path.peer + ")", {peer}});
    }
  }
  if (!listens.empty()) chain->push_back({Label("listen", path.listen), listens});
  if (!listeners.empty()) chain->push_back({path.listener, listeners});
  if (path.pathway.empty()) {
    for (const Level& level : *chain) {
      for (const Scope* s : level.scopes) {
        if (const Option* o = s->FindOption("pathway"); o && o->value.is_scalar()) {
          path.pathway = o->value.text();
        }
      }
      if (!path.pathway.empty()) break;
    }
  }
  std::vector<const Scope*> groups;
  if (!path.pathway_group.empty()) groups = Named({root}, "pathway_group", path.pathway_group);
  if (!path.pathway.empty()) {
    std::vector<const Scope*> in_group = Named(groups, "pathway", path.pathway);
    if (path.pathway_group.empty()) {
      for (const Scope* pg : root->Children("pathway_group")) {
        if (!pg->Children("pathway", path.pathway).empty()) {
          groups.push_back(pg);
          for (const Scope* s : pg->Children("pathway", path.pathway)) in_group.push_back(s);
        }
      }
    }
    chain->push_back({"pathway_group > " + Label("pathway", path.pathway), in_group});
    chain->push_back({Label("pathway", path.pathway), Named({root}, "pathway", path.pathway)});
  }
  chain->push_back({"pathway_group", groups});
  return Status::Ok();
}

Result<std::vector<Level>> BuildChain(const Config& config, const ScopePath& path) {
  if (path.inbound() && path.outbound()) {
    return InvalidArgument(
        "a scope path is either inbound (listener, listen, peer, pathway) "
        "or outbound (binding_group, binding, domain, host), not both");
  }
  std::vector<Level> chain;
  if (path.outbound()) OutboundChain(config, path, &chain);
  if (path.inbound()) EC_RETURN_IF_ERROR(InboundChain(config, path, &chain));
  chain.push_back({"global", {&config.root}});
  return chain;
}

const OptionSpec* PickSpec(const SchemaRegistry& schema, std::string_view option,
                           const std::vector<Level>& chain) {
  for (const Level& level : chain) {
    for (const Scope* s : level.scopes) {
      if (const OptionSpec* spec = schema.FindOption(option, s->type)) return spec;
    }
  }
  std::vector<const OptionSpec*> all = schema.FindOptions(option);
  return all.empty() ? nullptr : all.front();
}

Result<Resolved> EvalChain(const SchemaRegistry& schema, const std::vector<Level>& chain,
                           const ScopePath& path, std::string_view raw_option) {
  std::string option = ToLower(raw_option);
  const OptionSpec* spec = PickSpec(schema, option, chain);
  if (!spec) {
    std::string closest = ClosestMatch(option, schema.OptionNames());
    return InvalidArgument("unknown option '" + std::string(raw_option) + "'" +
                           (closest.empty() ? "" : " (did you mean '" + closest + "'?)"));
  }
  for (const Level& level : chain) {
    const Option* found = nullptr;
    for (const Scope* s : level.scopes) {
      if (const Option* o = s->FindOption(option)) found = o;
    }
    if (found) {
      return Resolved{option,
                      found->value,
                      found->location,
                      false,
                      level.label,
                      schema.FindOption(option, level.scopes.front()->type)
                          ? schema.FindOption(option, level.scopes.front()->type)
                          : spec};
    }
  }
  if (!spec->default_value) {
    return NotFound("option '" + option + "' is not set for " + path.ToString() +
                    " and has no default");
  }
  return Resolved{option, *spec->default_value, Location{"<default>", 0, 0}, true, "default", spec};
}

template <typename T, typename Convert>
Result<T> EvalAs(const Config& c, const ScopePath& p, std::string_view option,
                 const SchemaRegistry& schema, Convert convert) {
  EC_ASSIGN_OR_RETURN(Resolved r, Eval(c, schema, p, option));
  auto v = convert(r.value);
  if (!v.ok()) return v.status().WithContext(r.location.ToString() + ": " + r.option);
  return std::move(v).value();
}

}  // namespace

Result<Resolved> Eval(const Config& config, const SchemaRegistry& schema, const ScopePath& path,
                      std::string_view option) {
  EC_ASSIGN_OR_RETURN(std::vector<Level> chain, BuildChain(config, path));
  return EvalChain(schema, chain, path, option);
}

std::vector<Resolved> EvalAll(const Config& config, const SchemaRegistry& schema,
                              const ScopePath& path) {
  auto chain = BuildChain(config, path);
  if (!chain.ok()) return {};
  std::string innermost = "global";
  if (!path.host.empty()) {
    innermost = "host";
  } else if (!path.domain.empty()) {
    innermost = "domain";
  } else if (!path.binding.empty()) {
    innermost = "binding";
  } else if (!path.binding_group.empty()) {
    innermost = "binding_group";
  } else if (!path.peer.empty()) {
    innermost = "peer";
  } else if (!path.listen.empty()) {
    innermost = "listen";
  } else if (!path.pathway.empty()) {
    innermost = "pathway";
  } else if (!path.listener.empty()) {
    innermost = ToLower(path.listener);
  }
  std::vector<Resolved> out;
  for (const OptionSpec* spec : schema.OptionsForScope(innermost)) {
    auto r = EvalChain(schema, *chain, path, spec->name);
    if (r.ok()) out.push_back(std::move(r).value());
  }
  return out;
}

Result<bool> EvalBool(const Config& c, const ScopePath& p, std::string_view option,
                      const SchemaRegistry& schema) {
  return EvalAs<bool>(c, p, option, schema, [](const Value& v) { return v.AsBool(); });
}
Result<int64_t> EvalInt(const Config& c, const ScopePath& p, std::string_view option,
                        const SchemaRegistry& schema) {
  return EvalAs<int64_t>(c, p, option, schema, [](const Value& v) { return v.AsInt(); });
}
Result<double> EvalSeconds(const Config& c, const ScopePath& p, std::string_view option,
                           const SchemaRegistry& schema) {
  return EvalAs<double>(c, p, option, schema, [](const Value& v) { return v.AsSeconds(); });
}
Result<int64_t> EvalBytes(const Config& c, const ScopePath& p, std::string_view option,
                          const SchemaRegistry& schema) {
  return EvalAs<int64_t>(c, p, option, schema, [](const Value& v) { return v.AsBytes(); });
}
Result<std::string> EvalString(const Config& c, const ScopePath& p, std::string_view option,
                               const SchemaRegistry& schema) {
  return EvalAs<std::string>(c, p, option, schema, [](const Value& v) { return v.AsString(); });
}
Result<std::vector<std::string>> EvalList(const Config& c, const ScopePath& p,
                                          std::string_view option, const SchemaRegistry& schema) {
  return EvalAs<std::vector<std::string>>(c, p, option, schema,
                                          [](const Value& v) { return v.AsStringList(); });
}

}  // namespace ec::config
