// OutboundLimits: what the scheduler asks of the cluster-wide limits (cluster_* options,
// docs/cluster-limits.md) before it starts a unit of work. The scheduler knows queues and
// connections; the implementation (mta/cluster/shared_limits.h) knows the options, their
// precedence, the replicated figures and this node's grants. Loop thread only.
// The node-local limits (max_outbound_connections, outbound_throttle_*) stay in the scheduler.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ec::outbound {

// The queue (and, for AcquireHost, the remote address) a unit of work is for.
struct LimitScope {
  std::string binding;  // "" = the default binding
  std::string binding_group;
  std::string domain;  // lower-case
  std::string host;    // remote IP address, AcquireHost only
};

// A unit held (a connection counted against a limit); releasing it is destroying it.
class LimitLease {
 public:
  virtual ~LimitLease() = default;
};

class OutboundLimits {
 public:
  virtual ~OutboundLimits() = default;
  // One more connection for the queue: cluster_max_outbound_connections (domain and binding
  // scopes), cluster_server_max_outbound_connections, cluster_outbound_throttle_connections.
  // Null: over a limit now; the on_capacity callback runs when that may have changed.
  virtual std::unique_ptr<LimitLease> AcquireConnection(const LimitScope& scope) = 0;
  // The connection is about to connect to `scope.host`: Host-scope cluster limits. Null: that
  // address is at its limit now (try another, or wait for on_capacity).
  virtual std::unique_ptr<LimitLease> AcquireHost(const LimitScope& scope) = 0;
  // One more message for the queue (cluster_outbound_throttle_messages). Null: wait. The
  // lease is held until the transaction ends (its DATA reply, or the connection's end): only
  // then does the send enter the throttle's window, so the receiver never sees more than the
  // limit in any window, however long each transaction takes.
  virtual std::unique_ptr<LimitLease> AcquireMessage(const LimitScope& scope) = 0;
  // Messages of the queue waiting for a connection (ready and not yet given to one): the
  // demand by which the cluster shares a limit. 0 when the queue drains.
  virtual void SetBacklog(const LimitScope& scope, size_t backlog) = 0;
  // The queue holds more connections than its share now (another node needs some): the
  // scheduler closes one when its transaction ends instead of giving it the next message.
  virtual bool OverShare(const LimitScope& scope) = 0;
  // Runs on the loop when a limit may admit more than before (a grant grew, a unit aged out
  // of a throttle window); the scheduler then dispatches its waiting queues again.
  virtual void SetOnCapacity(std::function<void()> on_capacity) = 0;
};

}  // namespace ec::outbound
