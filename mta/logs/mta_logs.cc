#include "mta/logs/mta_logs.h"

#include <filesystem>
#include <system_error>

#include "common/log/logger.h"

namespace ec::mta {
namespace {

Status OpenOne(const std::string& path, mode_t mode, std::unique_ptr<log::LineFile>* out) {
  if (path.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return InvalidArgument("creating log directory " + parent.string() + ": " + ec.message());
  EC_ASSIGN_OR_RETURN(*out, log::LineFile::Open(path, mode));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<MtaLogs>> MtaLogs::Open(const MtaLogPaths& paths) {
  std::unique_ptr<MtaLogs> logs(new MtaLogs(paths));
  EC_RETURN_IF_ERROR(OpenOne(paths.mainlog, paths.mode, &logs->mainlog_));
  EC_RETURN_IF_ERROR(OpenOne(paths.rejectlog, paths.mode, &logs->rejectlog_));
  EC_RETURN_IF_ERROR(OpenOne(paths.paniclog, paths.mode, &logs->paniclog_));
  EC_RETURN_IF_ERROR(OpenOne(paths.acctlog, paths.mode, &logs->acctlog_));
  EC_RETURN_IF_ERROR(OpenOne(paths.bouncelog, paths.mode, &logs->bouncelog_));
  return logs;
}

void MtaLogs::Heartbeat(std::time_t now) {
  Write(mainlog_.get(), "mainlog", FormatMainlogHeartbeat(now));
  Write(rejectlog_.get(), "rejectlog", FormatRejectlogHeartbeat(now));
}

Status MtaLogs::Reopen() {
  Status first;
  for (log::LineFile* f :
       {mainlog_.get(), rejectlog_.get(), paniclog_.get(), acctlog_.get(), bouncelog_.get()}) {
    if (f == nullptr) continue;
    Status s = f->Reopen();
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

void MtaLogs::Write(log::LineFile* file, std::string_view log, const std::string& line) {
  // The journal first: a line the manager may see must not be missing from the local file for
  // longer than this call.
  if (journals_ != nullptr) {
    Status s = journals_->Append(log, line);
    if (!s.ok()) EC_LOG(kError, "log journal write failed").Field("log", log).Field("error", s);
  }
  if (file == nullptr) return;
  Status s = file->Append(line);
  if (!s.ok()) {
    EC_LOG(kError, "log write failed").Field("file", file->path()).Field("error", s);
  }
}

}  // namespace ec::mta
