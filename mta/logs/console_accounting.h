// The console's logins and commands (control::ServerOptions::on_accounting) in the acctlog as
// Momentum's records: a TCP `login` is an N record, a command a Z record (log_records.h).
// Any thread (MtaLogs is thread-safe).
#pragma once

#include <ctime>

#include "common/control/accounting.h"
#include "mta/logs/mta_logs.h"

namespace ec::mta {

void LogConsoleAccounting(MtaLogs& logs, const control::AccountingEvent& e, std::time_t time);

}  // namespace ec::mta
