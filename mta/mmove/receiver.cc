#include "mta/mmove/receiver.h"

#include <chrono>
#include <filesystem>

#include "common/log/logger.h"

namespace ec::mmove {
namespace {

int64_t WallMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string MovedInPath(const std::string& spoolbase) {
  return (std::filesystem::path(spoolbase) / "mmove" / "moved_in").string();
}

Result<std::unique_ptr<Receiver>> Receiver::Open(spool::Spool& spool) {
  const std::string path = MovedInPath(spool.spoolbase());
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Internal("mmove: creating " + path + ": " + ec.message());
  auto log = MovedInLog::Open({.path = path}, WallMicros(), [&spool](uint64_t id) {
    return spool.ReadMessage(spool::QueueId(id)).ok();
  });
  if (!log.ok()) return log.status().WithContext("mmove: moved-in record " + path);
  EC_LOG(kInfo, "mmove moved-in record opened").Field("path", path).Field("entries",
                                                                         (*log)->size());
  return std::unique_ptr<Receiver>(new Receiver(spool, std::move(*log)));
}

void Receiver::Start(logship::EcclusterListener& listener, mta::MtaLogs* logs,
                     std::function<void(spool::QueueId, const spool::Envelope&)> on_stored,
                     std::set<std::string> members) {
  service_ = std::make_unique<MoveService>(MoveServiceOptions{
      .spool = &spool_, .moved_in = moved_in_.get(), .logs = logs,
      .on_stored = std::move(on_stored)});
  service_->SetMembers(std::move(members));
  listener.RegisterCommands(
      [this](control::CommandRegistry& commands) { service_->RegisterCommands(commands); });
}

void Receiver::SetMembers(std::set<std::string> members) {
  if (service_) service_->SetMembers(std::move(members));
}

MoveService::Stats Receiver::stats() const {
  return service_ ? service_->stats() : MoveService::Stats{};
}

}  // namespace ec::mmove
