#include "mta/logs/console_accounting.h"

namespace ec::mta {

void LogConsoleAccounting(MtaLogs& logs, const control::AccountingEvent& e, std::time_t time) {
  if (e.kind == control::AccountingEvent::Kind::kAuthentication) {
    logs.Authentication({.time = time,
                         .listener = e.listener,
                         .peer = e.peer,
                         .user = e.user,
                         .accepted = e.allowed});
    return;
  }
  logs.Authorization({.time = time,
                      .listener = e.listener,
                      .peer = e.peer,
                      .user = e.user,
                      .result = e.allowed ? 1 : 0,
                      .command = e.command});
}

}  // namespace ec::mta
