// RevisionAnnouncer: ecconfigd's voice on the cluster bus (docs/bus-protocol.md). Each new head
// of a subcluster's repository is shouted on group `ec_config` with the 40-hex revision as the
// payload, as soon as ConfigServer sees it. Bus delivery is at most once, so the notice is
// idempotent state: every head is shouted again each `repeat`, and whispered to a peer the
// moment it joins `ec_config`. LoadBusOptions reads the peers from global/msgc_server.conf.
// Everything runs on the loop thread of the EventBase it is given; destroy it there.
#pragma once

#include <git2.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "msgc/bus_options.h"

// Declared, not included: msgc/loop_socket.h spells libevent's `event` unqualified, which breaks
// once namespace ec::event is declared, so msgc/bus.h must come before any common/event header.
namespace ec::event {
class EventBase;
class Timer;
}  // namespace ec::event
namespace ec::msgc {
class Bus;
}  // namespace ec::msgc

namespace ec::ecconfigd {

inline constexpr char kConfigGroup[] = "ec_config";

// msgc_server { peers = [ name = "address" ... ] port = N } from `file` (a msgc_server.conf),
// for the peer named `self`. NotFound if the file does not exist (no bus configured);
// FailedPrecondition if `self` is not among the peers; InvalidArgument with file:line for a
// file that does not parse or lacks peers.
// CURVE keys as for every member (msgc/bus_config.h): this host's pair at `default_secret_key`
// unless curve_secret_key says otherwise, made on first start.
Result<msgc::BusOptions> LoadBusOptions(const std::filesystem::path& file, const std::string& self,
                                        const std::filesystem::path& default_secret_key);

class RevisionAnnouncer {
 public:
  static Result<std::unique_ptr<RevisionAnnouncer>> Create(
      event::EventBase& base, msgc::BusOptions options,
      std::chrono::milliseconds repeat = std::chrono::seconds(2));
  RevisionAnnouncer(const RevisionAnnouncer&) = delete;
  RevisionAnnouncer& operator=(const RevisionAnnouncer&) = delete;
  ~RevisionAnnouncer();

  // Records `head` as the subcluster's revision and shouts it if it is new.
  void Announce(const std::string& subcluster, const git_oid& head);

  const msgc::Bus& bus() const { return *bus_; }
  // SIGHUP: the bus follows the re-read peers and keys (msgc::Bus::Reconfigure).
  Status Reload(msgc::BusOptions options);
  uint64_t notices_sent() const { return notices_sent_; }

 private:
  RevisionAnnouncer() = default;
  void ShoutAll();

  std::unique_ptr<msgc::Bus> bus_;
  std::unique_ptr<event::Timer> repeat_;
  std::map<std::string, std::string> heads_;  // subcluster -> 40-hex revision
  uint64_t notices_sent_ = 0;
};

}  // namespace ec::ecconfigd
