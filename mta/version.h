// The version string every ecmta surface reports (`ecmta --version`, console `version`, EHLO
// banner comment). EC_VERSION comes from the top-level project() in CMake.
#pragma once

#include <string>

namespace ec::mta {
std::string VersionString();
}  // namespace ec::mta
