// MoveService: the receiving side of #mmove (docs/mmove.md) on the ECCluster listener. It
// answers `mmove begin|chunk|commit|abort` (move_wire.h) from bus members only (the principal
// "msgc:<node>" of the CURVE key), stages each incoming payload in memory, and on commit stores
// the message durably: intent in the moved-in record, spool submit (fsync), commit in the
// record, and only then the answer "stored <id>", after which the sender may drop its copy. A
// retried move (the sender died before it saw the answer, or before its removal was durable)
// finds the record and is answered "dup <id>" without storing anything. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/control/commands.h"
#include "mta/logs/mta_logs.h"
#include "mta/mmove/moved_in_log.h"
#include "mta/mmove/move_wire.h"
#include "mta/spool/spool.h"

namespace ec::mmove {

struct MoveServiceOptions {
  spool::Spool* spool = nullptr;
  MovedInLog* moved_in = nullptr;
  mta::MtaLogs* logs = nullptr;  // the R ... xfer lines; may be null (tests)
  // Hands a stored message to the scheduler (its envelope as stored).
  std::function<void(spool::QueueId, const spool::Envelope&)> on_stored;
  std::function<int64_t()> now_us;  // wall clock by default
  size_t max_staged = 64;           // payloads being received at once
  // Their declared sizes together: staged payloads live in memory, and 64 of the largest
  // (kMaxPayloadBytes) would be 4 GiB. At least kMaxPayloadBytes, so one always fits.
  uint64_t max_staged_bytes = 256u << 20;
  // A staged payload not committed within this (its sender died or gave up) is dropped when
  // room is needed.
  int64_t stale_us = 60'000'000;
};

class MoveService {
 public:
  explicit MoveService(MoveServiceOptions options);
  MoveService(const MoveService&) = delete;
  MoveService& operator=(const MoveService&) = delete;

  // The members allowed to move mail here (bus peers), without "msgc:".
  void SetMembers(std::set<std::string> members) { members_ = std::move(members); }
  void RegisterCommands(control::CommandRegistry& commands);

  struct Stats {
    uint64_t stored = 0, duplicates = 0, refused = 0;
  };
  Stats stats() const { return stats_; }

 private:
  struct Staged {
    uint64_t bytes = 0;
    uint32_t crc = 0;
    std::string payload;
    bool committing = false;
    int64_t started_us = 0;
  };
  void Handle(const std::string& op, const control::Request& request, control::Reply reply);
  Result<std::string> Sender(const control::Request& request) const;
  void Commit(const MoveKey& key, control::Reply reply);
  void Stored(const MoveKey& key, spool::QueueId id, const spool::Envelope& envelope,
              uint64_t size, Status status, control::Reply reply);
  int64_t Now() const;

  MoveServiceOptions options_;
  std::set<std::string> members_;
  // A new payload of `bytes` fits beside the staged ones (count and declared bytes).
  bool RoomFor(uint64_t bytes) const;
  // Drops staged payloads older than stale_us (not those being committed).
  void DropStale();

  std::map<MoveKey, Staged> staged_;
  Stats stats_;
  // Spool completions may run after the service is gone (shutdown): they check this first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ec::mmove
