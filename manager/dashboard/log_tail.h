// The dashboard's log tail (/api/logs?node=N&log=L&lines=K): the last lines of the aggregated
// logs, read by `logs tail` itself (manager/logs/tail.h) from the files' ends, merged across
// files by the time at the head of each line (Momentum's logs start with unix seconds) and
// bounded in lines and bytes, as JSON. ParseLogQuery and RenderTail are pure; TailJson reads
// the files. Any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::manager::dashboard {

inline constexpr size_t kDefaultTailLines = 100;
inline constexpr size_t kMaxTailLines = 1000;
inline constexpr size_t kMaxTailBytes = 256 * 1024;  // of line text in one answer
inline constexpr size_t kMaxTailLineBytes = 4096;    // a longer line is cut (and says so)
// Read from the end of the files for one answer: the port is unauthenticated and served on
// eccmgr's event loop, so a poll must cost the same whatever a day's log has grown to.
inline constexpr uint64_t kMaxTailReadPerFile = 256 * 1024;
inline constexpr uint64_t kMaxTailReadTotal = 1024 * 1024;

struct LogQuery {
  std::string node;  // empty: every node
  std::string log;   // empty: every log
  size_t lines = kDefaultTailLines;
};

// From the decoded query parameters (empty when absent). kInvalidArgument for a node or log
// that could not be a file name, or lines not in 1..kMaxTailLines.
Result<LogQuery> ParseLogQuery(std::string_view node, std::string_view log,
                               std::string_view lines);

// `tail` is RunTail's output ("<node> <log>: <line>" per line, file after file). The JSON:
// {"lines":[{"node":..,"log":..,"text":..},...],"truncated":bool}, oldest first, at most
// `max_lines` and kMaxTailBytes of text; "truncated" when lines were left out or cut.
std::string RenderTail(std::string_view tail, size_t max_lines);

// Runs the tail over the aggregated logs under `log_root` laid out by `pattern`, reading at
// most kMaxTailReadPerFile of each file and kMaxTailReadTotal in all (`bytes_read` receives
// how much). No directory yet (nothing collected so far) is an empty list, not an error.
Result<std::string> TailJson(const std::string& log_root, const std::string& pattern,
                             const LogQuery& query, uint64_t* bytes_read = nullptr);

}  // namespace ec::manager::dashboard
