// LineTime on arbitrary bytes (a line as a node sent it): never crashes, returns the fallback
// or a time it read, and the default pattern expands to a path inside the log root.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "manager/logs/log_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  constexpr std::time_t kFallback = 1795932900;
  const std::time_t t = ec::logcollect::LineTime(line, kFallback);
  if (t < 0 || t > 99999999999) std::abort();
  auto path = ec::logcollect::ExpandLogfilePattern(ec::logcollect::kDefaultLogfilePattern,
                                                   {"mainlog", "default", "node1"}, t);
  if (path.ok() && (path->empty() || path->front() == '/')) std::abort();
  return 0;
}
