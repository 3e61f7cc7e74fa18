// Cluster-wide limits as configured (docs/cluster-limits.md, "Options"): which cluster_* limits
// apply to a unit of outbound work (a connection, a connection to one remote address, a
// message) and the replicated object each is counted on; the Replicate scopes of cluster { };
// and the check, for --check-config, start and reload, that every limit set has the Replicate
// type that carries it. A limit is looked up with config::Eval, so its precedence is exactly the
// one `config eval` shows; where the winning setting was written (its stanza) picks the key. The
// runtime (shared_limits.h) asks on every connection and message, through LimitResolver's cache.
// Free functions are pure over an immutable Config (any thread); a LimitResolver is not
// thread-safe (loop thread only).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "mta/outbound/outbound_limits.h"

namespace ec::mta::cluster {

enum class LimitUnit { kConnection, kHostConnection, kMessage };

// One cluster limit that applies to a unit of work.
struct LimitRule {
  std::string key;  // replicated object key, "<type>/<name>" (replication/shared_message.h)
  uint64_t limit = 0;
  uint64_t window_ms = 0;  // throttles: the window; 0: a connection count

  bool operator==(const LimitRule&) const = default;
};

// The cluster limits that apply to one unit for `scope`. Keys by where the winning setting is
// written (<d> = scope.domain, <ip> = scope.host, <b>/<g> = the binding/group named there):
//  kConnection:
//   cluster_max_outbound_connections (scope.host ignored): global or Domain: outbound_domains/<d>;
//     a Binding (or Binding > Domain): outbound_domains/binding/<b>/<d>; a Domain in a
//     Binding_Group: outbound_domains/group/<g>/<d>.
//   cluster_server_max_outbound_connections: outbound_cidr/<b> | outbound_cidr/group/<g> |
//     outbound_cidr/* (global).
//   cluster_scope_max_outbound_connections: outbound_binding_domains/<the stanza, compactly>:
//     "group/<g>/", "binding/<b>/" for the enclosing stanzas, then the Domain's name as written
//     (lower-case unless a /regex/), or "host/<name>", or nothing; global: "*". So every domain
//     a /regex/ Domain matches shares its count, as Momentum's scope_max does.
//   cluster_outbound_throttle_connections: obtc/<d> (global or Domain: each domain has its own
//     throttle), obtc/group/<g> (set on the Binding_Group itself), obtc/binding/<b>/<d> or
//     obtc/group/<g>/<d> (a Domain inside one); window = the rate's seconds.
//  kHostConnection (scope.host set): cluster_max_outbound_connections when its most specific
//   setting is in a Host: outbound_domains/host/<ip>, outbound_domains/binding/<b>/host/<ip>,
//   outbound_domains/group/<g>/host/<ip>; and cluster_scope_max_outbound_connections set in a
//   Host (outbound_binding_domains/...host/<name>).
//  kMessage: cluster_outbound_throttle_messages, keys as for obtc with obtm/.
// -1, unset, a throttle of 0 or a malformed value (the schema check reports it): no rule.
std::vector<LimitRule> ResolveLimits(const config::Config& config,
                                     const outbound::LimitScope& scope, LimitUnit unit);

// A `Replicate "<name>" { }` scope of cluster { }. `type` defaults to the name, lower-cased
// ("OBTM" -> obtm). A malformed value keeps the default (the schema check reports it).
struct ReplicateSpec {
  std::string name;
  std::string type;
  std::chrono::milliseconds max_delay{1000};
  uint64_t max_pending = 100;
  std::string binding_group;
};
std::vector<ReplicateSpec> ReadReplicateScopes(const config::Config& config);

// The Replicate type a cluster limit needs ("outbound_domains", ..., "obtm", "obtc"), or "" for
// another option.
std::string_view RequiredReplicateType(std::string_view option);

// Every cluster limit set anywhere (any scope; any value but -1 or a throttle of 0) whose
// Replicate type is missing, and every Replicate max_delay that is 0 or over 60 s:
// kInvalidArgument, one problem a line in file order, "file:line:column:
// cluster_max_outbound_connections needs Replicate \"outbound_domains\" in cluster { }".
// Also the Shared_Throttle checks (named_throttles.h: CheckSharedThrottles).
Status ValidateClusterLimits(const config::Config& config);

// ResolveLimits per (unit, scope) for one config snapshot, cached: the runtime asks on every
// connection and message. The cache is bounded: it is emptied when it would pass kMaxEntries.
class LimitResolver {
 public:
  static constexpr size_t kMaxEntries = 10000;

  explicit LimitResolver(std::shared_ptr<const config::Config> config);
  // The reference is valid until the next call.
  const std::vector<LimitRule>& Resolve(const outbound::LimitScope& scope, LimitUnit unit);
  size_t cached() const { return cache_.size(); }

 private:
  std::shared_ptr<const config::Config> config_;
  std::unordered_map<std::string, std::vector<LimitRule>> cache_;
};

}  // namespace ec::mta::cluster
