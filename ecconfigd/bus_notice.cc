// msgc/bus.h before anything that declares namespace ec::event (see bus_notice.h).
#include "msgc/bus.h"
// clang-format off
#include "ecconfigd/bus_notice.h"
// clang-format on

#include <algorithm>
#include <system_error>

#include "common/config/check.h"
#include "common/event/event_base.h"
#include "common/event/timer.h"
#include "common/log/logger.h"
#include "ecconfigd/git_handles.h"
#include "msgc/bus_config.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;

Result<msgc::BusOptions> LoadBusOptions(const fs::path& file, const std::string& self,
                                        const fs::path& default_secret_key) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return NotFound("no bus configured: " + file.string() + " is missing");
  config::LoadOptions load;
  load.search_path = {file.parent_path().string()};
  load.use_environment = false;
  EC_ASSIGN_OR_RETURN(auto config, config::LoadConfig(file.string(), load));
  if (!msgc::HasBusConfig(*config)) {
    return InvalidArgument(file.string() + ": msgc_server { peers = [ name = \"address\" ] } " +
                           "is missing");
  }
  // Not listed (the shipped file names example hosts) is not an error for the caller.
  const auto& names =
      config->root.Children("msgc_server").back()->FindOption("peers")->value.keys();
  if (std::find(names.begin(), names.end(), self) == names.end()) {
    return FailedPrecondition(file.string() + " does not list this host ('" + self +
                              "') among the bus peers");
  }
  // The same reader as ecmta and eccmgr, so timers and CURVE keys mean the same here.
  EC_ASSIGN_OR_RETURN(msgc::BusConfig bus,
                      msgc::BusConfigFromConfig(*config, self, default_secret_key.string()));
  EC_RETURN_IF_ERROR(msgc::EnsureOwnKeyPair(bus.bus));
  return bus.bus;
}

Result<std::unique_ptr<RevisionAnnouncer>> RevisionAnnouncer::Create(
    event::EventBase& base, msgc::BusOptions options, std::chrono::milliseconds repeat) {
  std::unique_ptr<RevisionAnnouncer> self(new RevisionAnnouncer());
  EC_ASSIGN_OR_RETURN(self->bus_, msgc::Bus::Create(base.get(), std::move(options)));
  RevisionAnnouncer* raw = self.get();
  // A peer that joins late (or restarted) hears every head at once instead of at the next repeat.
  self->bus_->SetMembershipHandler([raw](const msgc::MembershipEvent& e, const msgc::View&) {
    if (e.kind != msgc::MembershipEvent::Kind::kGroupJoined || e.group != kConfigGroup) return;
    for (const auto& [subcluster, hex] : raw->heads_) {
      if (raw->bus_->Whisper(e.peer, kConfigGroup, hex).ok()) ++raw->notices_sent_;
    }
  });
  self->repeat_ = std::make_unique<event::Timer>(base, [raw] { raw->ShoutAll(); });
  self->repeat_->StartRepeating(repeat);
  return self;
}

RevisionAnnouncer::~RevisionAnnouncer() = default;

void RevisionAnnouncer::Announce(const std::string& subcluster, const git_oid& head) {
  std::string hex = OidToHex(head);
  std::string& known = heads_[subcluster];
  if (known == hex) return;
  known = hex;
  EC_LOG(kInfo, "announcing revision").Field("subcluster", subcluster).Field("revision", hex);
  Status s = bus_->Shout(kConfigGroup, hex);
  if (s.ok()) {
    ++notices_sent_;
  } else {
    EC_LOG(kWarn, "revision notice not sent").Field("error", s);
  }
}

void RevisionAnnouncer::ShoutAll() {
  for (const auto& [subcluster, hex] : heads_) {
    if (bus_->Shout(kConfigGroup, hex).ok()) ++notices_sent_;
  }
}

Status RevisionAnnouncer::Reload(msgc::BusOptions options) {
  return bus_->Reconfigure(std::move(options));
}

}  // namespace ec::ecconfigd
