// The Logs `logfile` pattern (Momentum's eccmgr): where the manager writes one node's log.
// strftime conversions (%Y %m %d %H %M %S %j %%) of the line's own time (LineTime), in UTC, and
//   %{l} the log (mainlog), %{s} the subcluster, %{n} the node.
// Default "%Y/%m/%d/%{l}/%{s}/%{n}" under the log root. Names that would step outside the root
// ('/', "..", empty) are refused. Pure functions, any thread.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::logcollect {

inline constexpr std::string_view kDefaultLogfilePattern = "%Y/%m/%d/%{l}/%{s}/%{n}";

struct LogFileName {
  std::string log, subcluster, node;
};

// The path relative to the log root.
Result<std::string> ExpandLogfilePattern(std::string_view pattern, const LogFileName& name,
                                         std::time_t when);

// When a line happened: every Momentum log line starts with its unix time ("1795932900@...",
// "1795932900: ..."). A line without one (or an absurd one) takes `fallback`, the time of
// writing. So a day's file holds that day's lines even when they are pulled after an outage.
std::time_t LineTime(std::string_view line, std::time_t fallback);

// The inverse, for `logs tail`: which log, subcluster and node a relative path belongs to, if
// it has the pattern's shape (the time fields match any digits).
std::optional<LogFileName> MatchLogfilePattern(std::string_view pattern, std::string_view path);

// A log, subcluster or node name that may stand in a path.
Status CheckPathName(std::string_view what, std::string_view name);

}  // namespace ec::logcollect
