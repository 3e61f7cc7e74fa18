// Generates docs/config-reference.md from the schema (`ec_conf options --markdown`), so the
// operator reference never drifts from the code. Pure function.
#pragma once

#include <string>

#include "common/config/schema.h"

namespace ec::config {

std::string GenerateMarkdownReference(const SchemaRegistry& schema);

}  // namespace ec::config
