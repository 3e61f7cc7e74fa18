#include "mta/mmove/move_service.h"

#include <chrono>

#include "common/log/logger.h"
#include "mta/mmove/move_decision.h"
#include "mta/spool/crc32c.h"

namespace ec::mmove {

MoveService::MoveService(MoveServiceOptions options) : options_(std::move(options)) {}

int64_t MoveService::Now() const {
  if (options_.now_us) return options_.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void MoveService::RegisterCommands(control::CommandRegistry& commands) {
  for (const char* op : {"begin", "chunk", "commit", "abort"}) {
    const std::string phrase = std::string(kCommandPrefix) + " " + op;
    (void)commands.Register(phrase, "#mmove: a message moved here from another node",
                            [this, o = std::string(op)](const control::Request& r,
                                                        control::Reply reply) {
                              Handle(o, r, std::move(reply));
                            });
  }
}

Result<std::string> MoveService::Sender(const control::Request& request) const {
  constexpr std::string_view kPrefix = "msgc:";
  const std::string& p = request.principal;
  if (p.rfind(kPrefix, 0) == 0 && members_.count(p.substr(kPrefix.size()))) {
    return p.substr(kPrefix.size());
  }
  EC_LOG(kWarn, "mmove refused")
      .Field("principal", p.empty() ? "unauthenticated" : p)
      .Field("peer", request.peer);
  return Status(StatusCode::kPermissionDenied, "mmove: refused: not a cluster member");
}

void MoveService::Handle(const std::string& op, const control::Request& request,
                         control::Reply reply) {
  auto node = Sender(request);
  if (!node.ok()) {
    ++stats_.refused;
    return reply.Error(node.status().message());
  }
  auto cmd = ParseCommand(op, request.arg_words);
  if (!cmd.ok()) return reply.Error(cmd.status().message());
  const MoveKey key{*node, cmd->sender_id.value()};
  switch (cmd->op) {
    case MoveOp::kBegin: {
      if (const MovedInEntry* e = options_.moved_in->Find(key); e && e->committed) {
        ++stats_.duplicates;
        return reply.Ok(EncodeReply(
            {.kind = MoveReply::Kind::kDuplicate, .receiver_id = spool::QueueId(e->receiver_id)}));
      }
      auto it = staged_.find(key);
      if (it != staged_.end() && it->second.committing) return reply.Error("mmove: busy");
      if (it == staged_.end() && !RoomFor(cmd->payload_bytes)) DropStale();
      if (it == staged_.end() && !RoomFor(cmd->payload_bytes)) {
        return reply.Error("mmove: busy: too many moves in progress");
      }
      staged_[key] =
          Staged{.bytes = cmd->payload_bytes, .crc = cmd->payload_crc, .started_us = Now()};
      return reply.Ok(EncodeReply({.kind = MoveReply::Kind::kReady}));
    }
    case MoveOp::kChunk: {
      auto it = staged_.find(key);
      if (it == staged_.end() || it->second.committing) return reply.Error("mmove: no move begun");
      Staged& s = it->second;
      // Chunks come in order; a resent chunk (a lost reply) is accepted again.
      if (cmd->offset + cmd->data.size() > s.bytes) return reply.Error("mmove: chunk too long");
      if (cmd->offset == s.payload.size()) {
        s.payload += cmd->data;
      } else if (cmd->offset + cmd->data.size() != s.payload.size()) {
        return reply.Error("mmove: chunk out of order");
      }
      return reply.Ok(EncodeReply({}));
    }
    case MoveOp::kCommit:
      return Commit(key, std::move(reply));
    case MoveOp::kAbort: {
      auto it = staged_.find(key);
      if (it != staged_.end() && !it->second.committing) staged_.erase(it);
      return reply.Ok(EncodeReply({}));
    }
  }
}

bool MoveService::RoomFor(uint64_t bytes) const {
  if (staged_.size() >= options_.max_staged) return false;
  uint64_t total = bytes;
  for (const auto& [key, s] : staged_) total += s.bytes;  // at most max_staged entries
  return total <= options_.max_staged_bytes;
}

void MoveService::Commit(const MoveKey& key, control::Reply reply) {
  if (const MovedInEntry* e = options_.moved_in->Find(key); e && e->committed) {
    ++stats_.duplicates;
    staged_.erase(key);
    return reply.Ok(EncodeReply(
        {.kind = MoveReply::Kind::kDuplicate, .receiver_id = spool::QueueId(e->receiver_id)}));
  }
  auto it = staged_.find(key);
  if (it == staged_.end() || it->second.committing) return reply.Error("mmove: no move begun");
  Staged& s = it->second;
  if (s.payload.size() != s.bytes || spool::Crc32c(s.payload) != s.crc) {
    staged_.erase(it);
    return reply.Error("mmove: payload incomplete or damaged; begin again");
  }
  auto moved = DecodePayload(s.payload);
  if (!moved.ok()) {
    staged_.erase(it);
    return reply.Error(moved.status().message());
  }
  spool::Envelope envelope = ArrivingEnvelope(moved->meta.envelope, moved->meta.states, "", true);
  if (envelope.rcpts.empty()) {
    staged_.erase(it);
    return reply.Error("mmove: no pending recipients");
  }
  const spool::QueueId id = options_.spool->NewId();
  if (Status st = options_.moved_in->Intent(key, id.value(), Now()); !st.ok()) {
    staged_.erase(it);
    return reply.Error(st.message());
  }
  s.committing = true;
  const uint64_t size = moved->body.size();
  std::weak_ptr<bool> alive = alive_;
  options_.spool->Submit(id, envelope, std::move(moved->body),
                         [this, alive, key, id, envelope, size, reply](Result<spool::QueueId> r) {
                           // Gone: the intent is settled against the spool at the next start.
                           if (alive.expired()) return reply.Error("mmove: shutting down");
                           Stored(key, id, envelope, size, r.status(), reply);
                         });
}

void MoveService::DropStale() {
  const int64_t now = Now();
  for (auto it = staged_.begin(); it != staged_.end();) {
    const bool stale = !it->second.committing && now - it->second.started_us > options_.stale_us;
    it = stale ? staged_.erase(it) : std::next(it);
  }
}

void MoveService::Stored(const MoveKey& key, spool::QueueId id, const spool::Envelope& envelope,
                         uint64_t size, Status status, control::Reply reply) {
  staged_.erase(key);
  if (!status.ok()) {
    // Not stored: forget the intent so the sender's retry stores it. If even that cannot be
    // written, the next open settles the intent against the spool (which does not hold it).
    (void)options_.moved_in->Forget(key);
    return reply.Error("mmove: not stored: " + status.message());
  }
  if (Status st = options_.moved_in->Commit(key, Now()); !st.ok()) {
    // Stored but not recorded as such: not scheduled now (a delivery before the record is
    // durable could be repeated by a retried move); the next start settles it and sends it.
    EC_LOG(kError, "mmove commit record").Field("id", id.ToString()).Field("error", st);
    return reply.Error("mmove: stored but not recorded: " + st.message());
  }
  ++stats_.stored;
  if (options_.logs) {
    const std::time_t now = std::time(nullptr);
    const size_t at = envelope.mail_from.rfind('@');
    for (const spool::Recipient& r : envelope.rcpts) {
      const size_t rat = r.address.rfind('@');
      mta::ReceptionRecord rec{
          .time = now,
          .message_id = id.ToString(),
          .connection_id = key.first + ":" + spool::QueueId(key.second).ToString(),
          .rcpt_localpart = r.address.substr(0, rat),
          .rcpt_domain = rat == std::string::npos ? "" : r.address.substr(rat + 1),
          .sender_localpart = envelope.mail_from.substr(0, at),
          .sender_domain = at == std::string::npos ? "" : envelope.mail_from.substr(at + 1),
          .size = size,
          .protocol = "xfer"};
      if (!envelope.binding.empty()) rec.binding = envelope.binding;
      if (!envelope.binding_group.empty()) rec.binding_group = envelope.binding_group;
      options_.logs->Reception(rec);
    }
  }
  if (options_.on_stored) options_.on_stored(id, envelope);
  reply.Ok(EncodeReply({.kind = MoveReply::Kind::kStored, .receiver_id = id}));
}

}  // namespace ec::mmove
