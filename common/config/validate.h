// Validation of a parsed tree against the schema: unknown options and scopes (with the closest
// known name), wrong types, out-of-range and enum values, options or scopes in the wrong place,
// missing or extra scope names, duplicate scopes, bad Peer CIDRs and /regex/ domains. Reports
// every problem, not only the first. Warns (not an error) at each setting of an option whose
// Support is not kImplemented. Pure function; any thread.
#pragma once

#include "common/config/location.h"
#include "common/config/schema.h"
#include "common/config/tree.h"

namespace ec::config {

// The problems come sorted by SortByLocation.
Diagnostics Validate(const Config& config, const SchemaRegistry& schema);

// Puts diagnostics in reading order: by file (in the order config.files lists them, unknown
// files last), then line and column. Stable.
void SortByLocation(const Config& config, Diagnostics* diags);

}  // namespace ec::config
