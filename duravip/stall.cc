#include "duravip/stall.h"

namespace ec::duravip {

bool PeersMayHaveDeclaredUsDead(std::chrono::milliseconds gap,
                                std::chrono::milliseconds heartbeat_interval,
                                std::chrono::milliseconds dead_timeout) {
  // Doubled rather than halved: no rounding of an odd millisecond count.
  return 2 * (gap + heartbeat_interval) >= dead_timeout;
}

}  // namespace ec::duravip
