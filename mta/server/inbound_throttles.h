// InboundThrottles: what an inbound SMTP session needs of the shared named throttles
// (Shared_Throttle scopes, docs/cluster-limits.md): one unit per transaction, or a refusal when
// the throttle is used up for its window. The daemon's cluster-limit runtime implements it
// (mta/cluster/shared_limits.h), so the session depends on this interface only. Loop thread.
#pragma once

#include <string_view>

namespace ec::mta {

class InboundThrottles {
 public:
  virtual ~InboundThrottles() = default;
  // Takes one unit of Shared_Throttle `name` (any case) for a transaction starting now; false:
  // no unit is left in this window (nothing taken). A name without a limit admits everything.
  virtual bool TakeTransaction(std::string_view name) = 0;
};

}  // namespace ec::mta
