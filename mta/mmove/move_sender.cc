#include "mta/mmove/move_sender.h"

#include <ctime>
#include <set>

#include "mta/mmove/move_decision.h"

namespace ec::mmove {

std::string PayloadFor(const spool::SpooledMessage& message, std::string_view body,
                       const std::string& moved_for, bool unconditional_rebind) {
  spool::MessageMeta meta;
  meta.id = message.id;
  meta.envelope =
      ArrivingEnvelope(message.envelope, message.states, moved_for, unconditional_rebind);
  meta.states.assign(meta.envelope.rcpts.size(), spool::RecipientState{});
  return EncodePayload(meta, body);
}

Result<MoveOutcome> SendMove(eccluster::ChannelClient& client, spool::QueueId id,
                             std::string_view payload, std::chrono::milliseconds timeout,
                             const std::function<Status()>& before_commit, bool* commit_sent) {
  bool begun = false;
  if (commit_sent) *commit_sent = false;
  for (const MoveCommand& c : CommandsFor(id, payload)) {
    Status failure;
    if (c.op == MoveOp::kCommit && before_commit) failure = before_commit();
    if (!failure.ok()) {
      (void)client.Send(EncodeCommand({.op = MoveOp::kAbort, .sender_id = id}), timeout);
      return failure;
    }
    if (c.op == MoveOp::kCommit && commit_sent) *commit_sent = true;
    auto r = client.Send(EncodeCommand(c), timeout);
    if (!r.ok()) {
      failure = r.status();
    } else if (!r->ok) {
      failure = Unavailable("mmove refused by the receiver: " + r->text);
    } else {
      auto reply = ParseReply(r->text);
      if (!reply.ok()) {
        failure = reply.status();
      } else if (reply->kind == MoveReply::Kind::kDuplicate ||
                 (c.op == MoveOp::kCommit && reply->kind == MoveReply::Kind::kStored)) {
        return MoveOutcome{.receiver_id = reply->receiver_id,
                           .duplicate = reply->kind == MoveReply::Kind::kDuplicate};
      } else if (c.op == MoveOp::kCommit) {
        failure = Internal("mmove: commit answered \"" + r->text + "\"");
      }
    }
    if (!failure.ok()) {
      // Before the commit went out the receiver holds at most a staged payload; after it, an
      // abort is harmless (a commit in progress ignores it) and the retry learns the outcome.
      if (begun) (void)client.Send(EncodeCommand({.op = MoveOp::kAbort, .sender_id = id}), timeout);
      return failure;
    }
    begun = true;
  }
  return Internal("mmove: no answer to commit");
}

Status FinishMoved(spool::Spool& spool, mta::MtaLogs* logs, const spool::SpooledMessage& message,
                   uint64_t body_size, const std::string& moved_for, const std::string& to,
                   const MoveOutcome& outcome, spool::Spool::DoneCallback durable) {
  if (logs) {
    std::set<std::string> domains;
    for (size_t i = 0; i < message.envelope.rcpts.size(); ++i) {
      if (i < message.states.size() &&
          message.states[i].kind != spool::RecipientState::Kind::kPending) {
        continue;
      }
      const std::string& a = message.envelope.rcpts[i].address;
      const size_t at = a.rfind('@');
      domains.insert(at == std::string::npos ? "" : a.substr(at + 1));
    }
    const std::time_t now = std::time(nullptr);
    for (const std::string& d : domains) {
      mta::DeliveryRecord rec{
          .time = now,
          .message_id = message.id.ToString(),
          .connection_id = outcome.receiver_id.ToString(),
          .transfer = true,
          .domain = d,
          .size = body_size,
          .seconds_since_reception =
              static_cast<double>(now) - static_cast<double>(message.envelope.received_us) / 1e6,
          .remote_ip = to};
      if (!moved_for.empty()) rec.binding = moved_for;
      if (!message.envelope.binding_group.empty()) rec.binding_group = message.envelope.binding_group;
      logs->Delivery(rec);
    }
  }
  return spool.Remove(message.id, std::move(durable));
}

}  // namespace ec::mmove
