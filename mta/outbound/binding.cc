#include "mta/outbound/binding.h"

#include <functional>

#include "common/config/resolve.h"

namespace ec::outbound {
namespace {

using config::Optional;
using config::ScopePath;

// splitmix64: queue ids are nearly sequential, so spread them before taking a remainder.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void ForEachScope(const config::Scope& s, const std::function<void(const config::Scope&)>& fn) {
  fn(s);
  for (const config::Scope& c : s.children) ForEachScope(c, fn);
}

}  // namespace

Result<BindingTable> BindingTable::Build(std::shared_ptr<const config::Config> config) {
  BindingTable t;
  t.config_ = std::move(config);
  const config::Scope& root = t.config_->root;
  auto declare = [&t](const config::Scope* b, const std::string& group) -> Status {
    const std::string name = b->name.value_or("");
    auto [it, inserted] = t.group_of_.try_emplace(name, group);
    if (!inserted && it->second != group) {
      return InvalidArgument(b->location.ToString() + ": Binding \"" + name +
                             "\" is declared in both Binding_Group \"" + it->second + "\" and \"" +
                             group + "\"");
    }
    if (inserted) t.members_[group].push_back(name);
    return Status::Ok();
  };
  for (const config::Scope* g : root.Children("binding_group")) {
    for (const config::Scope* b : g->Children("binding")) {
      EC_RETURN_IF_ERROR(declare(b, g->name.value_or("")));
    }
  }
  for (const config::Scope* b : root.Children("binding")) {
    if (t.group_of_.count(b->name.value_or("")) == 0) {
      EC_RETURN_IF_ERROR(declare(b, kDefaultBinding));
    }
  }
  if (t.group_of_.count(kDefaultBinding) == 0) {
    t.group_of_[kDefaultBinding] = kDefaultBinding;
    t.members_[kDefaultBinding].push_back(kDefaultBinding);
  }

  // Every assignment must name something declared: a typo would otherwise send mail out of
  // the wrong address without a word.
  Status bad;
  ForEachScope(root, [&](const config::Scope& s) {
    for (const config::Option& o : s.options) {
      if (!bad.ok() || (o.name != "set_binding" && o.name != "set_binding_group")) continue;
      auto v = o.value.AsString();
      if (!v.ok()) {
        bad = v.status().WithContext(o.location.ToString() + ": " + o.spelling);
      } else if (o.name == "set_binding" && t.group_of_.count(*v) == 0) {
        bad = InvalidArgument(o.location.ToString() + ": set_binding names Binding \"" + *v +
                              "\", which is not declared");
      } else if (o.name == "set_binding_group" && t.members_.count(*v) == 0) {
        bad = InvalidArgument(o.location.ToString() + ": set_binding_group names Binding_Group \"" +
                              *v + "\", which is not declared or has no Binding");
      }
    }
  });
  EC_RETURN_IF_ERROR(bad);

  for (const auto& [name, group] : t.group_of_) {
    auto r = config::Eval(*t.config_, config::DefaultSchema(),
                          ScopePath{.binding_group = group, .binding = name},
                          "server_max_outbound_connections");
    if (r.ok() && !r->from_default && r->scope != "global") {
      EC_ASSIGN_OR_RETURN(t.max_connections_[name], r->value.AsInt());
    }
  }
  std::string default_binding = "normal";
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(*t.config_, ScopePath{}, "default_binding"), &default_binding));
  if (default_binding == "none") {
    // Momentum answers 451 at reception for mail no binding claims; not done here yet, and
    // delivering it anyway would be the opposite of what was asked.
    return InvalidArgument(
        "default_binding = none (refusing unassigned mail) is not supported; "
        "\"suspended\" holds unassigned mail in the queue instead");
  }
  t.default_suspended_ = default_binding == "suspended";
  return t;
}

BindingRef BindingTable::Pick(spool::QueueId id, const BindingAssignment& a) const {
  if (!a.binding.empty()) {
    auto it = group_of_.find(a.binding);
    if (it != group_of_.end()) return BindingRef{it->second, a.binding};
  } else if (!a.group.empty()) {
    auto it = members_.find(a.group);
    if (it != members_.end() && !it->second.empty()) {
      return BindingRef{a.group, it->second[Mix(id.value()) % it->second.size()]};
    }
  }
  return BindingRef{};
}

BindingRef BindingTable::Assign(spool::QueueId id, const BindingAssignment& message,
                                const std::string& domain) {
  if (!message.binding.empty() || !message.group.empty()) return Pick(id, message);
  auto [it, inserted] = domain_cache_.try_emplace(domain);
  if (inserted && config_) {
    const ScopePath path{.domain = domain};
    (void)Optional(config::EvalString(*config_, path, "set_binding"), &it->second.binding);
    (void)Optional(config::EvalString(*config_, path, "set_binding_group"), &it->second.group);
  }
  return Pick(id, it->second);
}

std::vector<BindingRef> BindingTable::all() const {
  std::vector<BindingRef> out;
  for (const auto& [name, group] : group_of_) out.push_back(BindingRef{group, name});
  return out;
}

int64_t BindingTable::MaxConnections(const std::string& binding) const {
  auto it = max_connections_.find(binding);
  return it == max_connections_.end() ? -1 : it->second;
}

}  // namespace ec::outbound
