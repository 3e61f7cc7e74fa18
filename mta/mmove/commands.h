// The #mmove console commands (docs/mmove.md): `cluster mmove stats` and the operator's
// `cluster mmove release <node>` for moves in doubt to a node that is gone for good.
// Registration and handlers on the loop thread.
#pragma once

#include "common/control/commands.h"
#include "mta/mmove/mover.h"
#include "mta/mmove/receiver.h"

namespace ec::mmove {

// Both must outlive the registry's use of the handlers.
void RegisterMmoveCommands(control::CommandRegistry& commands, Mover& mover,
                           const Receiver& receiver);

}  // namespace ec::mmove
