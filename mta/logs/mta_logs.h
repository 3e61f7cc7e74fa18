// MtaLogs: the node's Momentum-style log files (mainlog, rejectlog, paniclog, acctlog,
// bouncelog) as the ec_logger module's options name them. Each record is one line written with
// one write(2); a log whose path is unset is off. Heartbeat lines (`ts@@@@M`, `ts: Marker 1`)
// tell readers the node is alive while it has nothing to say. Thread-safe (LineFile is).
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "common/log/line_file.h"
#include "mta/logs/log_records.h"
#include "mta/logship/log_journals.h"

namespace ec::mta {

struct MtaLogPaths {
  std::string mainlog, rejectlog, paniclog, acctlog, bouncelog;
  mode_t mode = 0644;
};

class MtaLogs {
 public:
  // Opens every configured file (creating parent directories); the first failure is returned.
  static Result<std::unique_ptr<MtaLogs>> Open(const MtaLogPaths& paths);

  void Reception(const ReceptionRecord& r) { Write(mainlog_.get(), "mainlog", FormatReception(r)); }
  void Delivery(const DeliveryRecord& r) { Write(mainlog_.get(), "mainlog", FormatDelivery(r)); }
  void Failure(const FailureRecord& r) { Write(mainlog_.get(), "mainlog", FormatFailure(r)); }
  void Bounce(const BounceRecord& r) { Write(bouncelog_.get(), "bouncelog", FormatBounce(r)); }
  void Rejection(const RejectionRecord& r) { Write(rejectlog_.get(), "rejectlog", FormatRejection(r)); }
  void Authentication(const AuthenticationRecord& r) {
    Write(acctlog_.get(), "acctlog", FormatAuthentication(r));
  }
  void Authorization(const AuthorizationRecord& r) {
    Write(acctlog_.get(), "acctlog", FormatAuthorization(r));
  }
  void Panic(const std::string& text) { Write(paniclog_.get(), "paniclog", FormatPanic(std::time(nullptr), text)); }
  void Heartbeat(std::time_t now);

  // Every line also goes to its log's journal, if the loggers name one (cluster://...=>master).
  // `journals` must outlive this object.
  void SetJournals(logship::LogJournals* journals) { journals_ = journals; }

  // After logrotate renamed the files (SIGHUP, `reopen logs`).
  Status Reopen();
  const MtaLogPaths& paths() const { return paths_; }

 private:
  explicit MtaLogs(MtaLogPaths paths) : paths_(std::move(paths)) {}
  // A failed log write must not fail the mail it records; it goes to the process log.
  void Write(log::LineFile* file, std::string_view log, const std::string& line);

  MtaLogPaths paths_;
  logship::LogJournals* journals_ = nullptr;
  std::unique_ptr<log::LineFile> mainlog_, rejectlog_, paniclog_, acctlog_, bouncelog_;
};

}  // namespace ec::mta
