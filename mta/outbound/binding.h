// Bindings: the outbound identities a config declares (`Binding` scopes at the top level or in
// a `Binding_Group`; each has its own source address, EHLO name and limits) and which one a
// piece of mail leaves through. Momentum assigns bindings from Lua policy; here the config
// does: `set_binding` / `set_binding_group` on the inbound scope a message came through (stored
// in its envelope at reception) or on the destination's global Domain scope. Unassigned mail
// uses the implicit binding "default" of the implicit group "default".
//
// Built from one config snapshot; the scheduler keeps it with that snapshot. Loop thread only
// (Assign caches per-domain answers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "mta/spool/queue_id.h"

namespace ec::outbound {

inline constexpr char kDefaultBinding[] = "default";

// A binding assignment as configured or stored in an envelope; both empty: none.
struct BindingAssignment {
  std::string binding;
  std::string group;
};

struct BindingRef {
  std::string group = kDefaultBinding;  // "default" for bindings outside any Binding_Group
  std::string name = kDefaultBinding;

  bool operator==(const BindingRef&) const = default;
};

class BindingTable {
 public:
  // Fails on a binding declared in two groups, an empty group, or a set_binding /
  // set_binding_group (in any scope) naming a binding or group the config does not declare.
  static Result<BindingTable> Build(std::shared_ptr<const config::Config> config);
  BindingTable() = default;

  // The binding mail for `domain` (lower-case) of message `id` leaves through: the message's
  // own assignment (`binding` or `group` from its envelope), else the domain's, else the
  // default. A group spreads messages over its bindings by queue id, so a message keeps its
  // binding across restarts. An assignment naming something no longer declared (the config
  // changed while the message was queued) falls back to the default binding.
  BindingRef Assign(spool::QueueId id, const BindingAssignment& message, const std::string& domain);

  bool Declared(const std::string& binding) const { return group_of_.count(binding) > 0; }
  // Every binding, the default one included, sorted by name.
  std::vector<BindingRef> all() const;
  // Connections this binding may hold at once (server_max_outbound_connections set on the
  // binding or its group); -1 when only the node-wide cap applies.
  int64_t MaxConnections(const std::string& binding) const;
  // The default binding is held (default_binding = suspended).
  bool default_suspended() const { return default_suspended_; }

 private:
  BindingRef Pick(spool::QueueId id, const BindingAssignment& a) const;

  std::shared_ptr<const config::Config> config_;
  std::map<std::string, std::string> group_of_;              // binding -> group
  std::map<std::string, std::vector<std::string>> members_;  // group -> bindings, in file order
  std::map<std::string, int64_t> max_connections_;           // binding -> own cap
  std::unordered_map<std::string, BindingAssignment> domain_cache_;  // destination -> its own
  bool default_suspended_ = false;
};

}  // namespace ec::outbound
