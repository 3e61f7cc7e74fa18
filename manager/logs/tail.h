// `eccmgr logs tail [-f] [--node N] [--log L]`: the aggregated logs of every node, read from
// the files the Collector writes under the log root. Each line is printed as
// "<node> <log>: <line>". Without follow: the last `lines` lines of each matching file. With
// follow: then every new line as it lands, including files that appear later (a new node, a
// new day), until `keep_going` says stop. Runs on the caller's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "manager/logs/log_path.h"

namespace ec::logcollect {

struct TailOptions {
  std::string log_root;
  std::string pattern{kDefaultLogfilePattern};
  std::string node;  // empty: every node
  std::string log;   // empty: every log
  size_t lines = 10;
  bool follow = false;
  // Bounds on the first read (0: none): bytes read back from the end of each file, and in all.
  // The dashboard sets both so a poll costs the same whatever the logs' size.
  uint64_t max_read_per_file = 0;
  uint64_t max_read_total = 0;
  std::chrono::milliseconds poll{200};
  std::function<bool()> keep_going;  // follow stops when this returns false; null: never
};

// `bytes_read`, when given, receives the bytes the first read took from the files.
Status RunTail(const TailOptions& options, std::ostream& out, uint64_t* bytes_read = nullptr);

// The filters of `logs tail` from its words: -f/--follow, --node N, --log L, -n/--lines N.
// Leaves log_root and pattern empty for the caller.
Result<TailOptions> ParseTailArgs(const std::vector<std::string>& words);

}  // namespace ec::logcollect
