#include "mta/version.h"

namespace ec::mta {
std::string VersionString() { return std::string("ecmta ") + EC_VERSION; }
}  // namespace ec::mta
