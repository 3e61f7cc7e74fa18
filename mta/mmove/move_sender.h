// The sending side of #mmove (docs/mmove.md): one message handed to the node holding its
// binding's address, over a ChannelClient (blocking: run it on a worker thread, never the
// loop). The sender keeps its copy until the receiver has answered "stored" or "dup" (its
// durable acceptance); then FinishMoved writes the X lines and removes the copy. A crash
// anywhere before that removal is durable only repeats the move, which the receiver's
// moved-in record answers "dup" without storing twice.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "eccluster/channel_client.h"
#include "mta/logs/mta_logs.h"
#include "mta/mmove/move_wire.h"
#include "mta/spool/spool.h"

namespace ec::mmove {

// The payload for a spooled message moved for `moved_for` (the binding whose address the
// receiver holds): its pending recipients only, assigned as unconditional_rebind says.
std::string PayloadFor(const spool::SpooledMessage& message, std::string_view body,
                       const std::string& moved_for, bool unconditional_rebind);

struct MoveOutcome {
  spool::QueueId receiver_id;
  bool duplicate = false;  // the receiver had it already (a retried move)
};

// begin, chunks, commit; each request waits at most `timeout`. Any failure leaves the
// message with the sender (an abort is sent when the receiver may hold a staged payload).
// `before_commit` (if given) runs just before the commit goes out (the sender's durable note,
// MovedOutLog); its failure ends the move there. `commit_sent` (if given) says whether the commit
// went out: after a failure with it set the receiver may have stored the message (in doubt).
Result<MoveOutcome> SendMove(eccluster::ChannelClient& client, spool::QueueId id,
                             std::string_view payload, std::chrono::milliseconds timeout,
                             const std::function<Status()>& before_commit = nullptr,
                             bool* commit_sent = nullptr);

// After SendMove succeeded (loop thread): one X line per moved recipient in the mainlog
// (`logs` may be null), then the spool removal (`durable`, if given, once it is synced). `to`:
// the receiving node, logged as the remote address field.
Status FinishMoved(spool::Spool& spool, mta::MtaLogs* logs, const spool::SpooledMessage& message,
                   uint64_t body_size, const std::string& moved_for, const std::string& to,
                   const MoveOutcome& outcome, spool::Spool::DoneCallback durable = nullptr);

}  // namespace ec::mmove
