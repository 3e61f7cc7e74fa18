// YAML views (yaml-cpp) of a configuration: the whole tree after includes, and a set of
// resolved values with where each came from. Pure functions; any thread.
#pragma once

#include <string>
#include <vector>

#include "common/config/resolve.h"
#include "common/config/tree.h"

namespace ec::config {

// files: [...]
// global: {options: {name: value ...}, scopes: [{type, name, location, read_only, options,
//          scopes} ...]}
// Options appear once, with their effective (last) value; lists are sequences, dicts maps.
std::string TreeToYaml(const Config& config);

// {option: {value: ..., from: file:line:column | default, scope: "binding \"b\" > ..."}}
std::string ResolvedToYaml(const std::vector<Resolved>& values);

}  // namespace ec::config
