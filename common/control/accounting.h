// What a console server reports for its daemon's acctlog (Momentum's authentication `N` and
// authorization `Z` records, mta/logs/log_records.h): each TCP `login` (accepted or refused) and
// each command a session asked to run, with whether it was allowed. Value type.
#pragma once

#include <functional>
#include <string>

namespace ec::control {

struct AccountingEvent {
  enum class Kind { kAuthentication, kAuthorization };
  Kind kind = Kind::kAuthentication;
  std::string listener;  // the unix socket's path, or the bound TCP address "127.0.0.1:2025"
  std::string peer;      // "ip:port"; empty on the unix socket
  std::string user;      // the login name; "uid:<n>" on the unix socket; empty before a login
  bool allowed = false;  // the login was accepted / the command may run
  std::string command;   // kAuthorization: the command's name ("summary", "config reload")
};

// Called on the server's loop thread; must not block (a log write).
using AccountingFn = std::function<void(const AccountingEvent&)>;

}  // namespace ec::control
