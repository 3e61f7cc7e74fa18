// EcclusterListener: the node's `ECCluster_Listener { Listen "*:4802" { } }`: a control-protocol
// server on each Listen address that answers only the log-shipping commands of JournalService
// (and help/version/quit), so the manager can pull journals without reaching the operator's
// console. Loop thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "common/control/server.h"
#include "common/event/event_base.h"
#include "mta/logship/journal_service.h"
#include "mta/logship/log_journals.h"

namespace ec::logship {

inline constexpr int kDefaultEcclusterPort = 4802;

class EcclusterListener {
 public:
  // Null (and OK) when the config has no ECCluster_Listener.
  static Result<std::unique_ptr<EcclusterListener>> Start(event::EventBase& base,
                                                          const config::Config& config,
                                                          LogJournals& journals);
  JournalService& service() { return *service_; }
  // The bound addresses ("127.0.0.2:4802"), for logs and tests.
  std::vector<std::string> addresses() const;

 private:
  EcclusterListener() = default;
  std::unique_ptr<JournalService> service_;
  std::vector<std::unique_ptr<control::Server>> servers_;
};

// "*:4802" and ":4802" mean every IPv4 address.
std::string ListenAddressForBind(const std::string& name);

}  // namespace ec::logship
