// Whole lines of the aggregated log files, shared by `logs tail` (manager/logs/tail.cc) and the
// dashboard's /api/logs (manager/dashboard/log_tail.cc). ReadLastLines reads a file backwards
// from its end, so the cost of a tail depends on the lines asked for and a byte bound, not on
// how large the day's file has grown.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::logcollect {

// Calls `line` for each whole ('\n'-terminated) line of `text`, without its '\n'. Returns the
// bytes consumed: the rest is a line the collector has not finished writing yet.
size_t ForEachWholeLine(std::string_view text, const std::function<void(std::string_view)>& line);

struct LastLines {
  std::vector<std::string> lines;  // oldest first, whole lines only
  uint64_t end = 0;                // just after the last whole line: where a follow resumes
  uint64_t bytes_read = 0;         // from the file, for the bound's tests
};

// The last `count` whole lines of `path`, reading at most `max_bytes` from its end (0: no
// bound, read back until `count` lines are found or the file starts). A line that begins before
// the bound is left out rather than returned cut. A missing file is no lines.
LastLines ReadLastLines(const std::string& path, size_t count, uint64_t max_bytes);

}  // namespace ec::logcollect
