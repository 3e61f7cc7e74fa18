// After this node's event loop did not run for a while (a slow config reload, SIGSTOP, swap), may
// its peers have declared it dead meanwhile? If they did, they took over what it held and sent
// it none of their reports (a shout goes to live members only), yet on waking it sees them alive
// as ever (msgc's Membership does not hold our own stall against them): what it remembers of
// their holdings is stale, and acting on it would take an address a peer still holds. So it
// must learn every peer's report again before it acquires anything (docs/duravip.md, "Safety").
// No I/O, no clock; any thread.
#pragma once

#include <chrono>

namespace ec::duravip {

// True when a gap of `gap` between two runs of our loop may have let a peer declare us dead.
// A peer does so after `dead_timeout` without a frame from us; it last heard us up to one
// `heartbeat_interval` before the gap began. The threshold keeps a margin of half the timeout
// for the network and the peers' own timers, as Membership does for its own stall check, so a
// gap close to the timeout is never trusted. Erring this way only costs a round of queries.
bool PeersMayHaveDeclaredUsDead(std::chrono::milliseconds gap,
                                std::chrono::milliseconds heartbeat_interval,
                                std::chrono::milliseconds dead_timeout);

}  // namespace ec::duravip
