// LogJournals: the node's journals, one per log the loggers send to the cluster. A logger
// output written `cluster:///path/mainlog.cluster=>master` (or `jlog://`, its alias; several
// subscribers as `=>a?subscribers=b,c`) is a journal directory at that path with those
// subscribers created in advance. MtaLogs appends every line of that log here besides its
// local file; the ECCluster listener's JournalService reads and advances the cursors.
// Thread-safe: one mutex guards every journal (appends come from the loop and from the spool's
// threads, reads from the loop).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "mta/journal/journal.h"

namespace ec::logship {

struct JournalSpec {
  std::string log;  // mainlog, rejectlog, paniclog, acctlog, bouncelog
  std::string dir;
  std::vector<std::string> subscribers;
};

// nullopt when `uri` is a plain path (a local file, not a journal); an error when it is a
// cluster:// or jlog:// URI that cannot be used.
Result<std::optional<JournalSpec>> ParseJournalUri(std::string_view log, std::string_view uri);

// Every journal the ec_logger and bounce_logger scopes name.
Result<std::vector<JournalSpec>> JournalSpecsFromConfig(const config::Config& config);

class LogJournals {
 public:
  static Result<std::unique_ptr<LogJournals>> Open(const std::vector<JournalSpec>& specs,
                                                   uint64_t max_bytes);

  // Appends one line to `log`'s journal, if it has one. A failure never fails the caller (the
  // mail it records matters more); it is counted and returned for the caller to log.
  Status Append(std::string_view log, std::string_view line);
  bool empty() const { return journals_.empty(); }

  // For the JournalService: the journals by log name, and the mutex to hold around them.
  std::map<std::string, journal::Journal*> journals() const;
  std::mutex& mutex() { return mu_; }

 private:
  LogJournals() = default;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<journal::Journal>> journals_;
};

}  // namespace ec::logship
