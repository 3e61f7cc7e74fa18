// Scheduler's bounce path: a failed recipient's DSN is submitted to the spool, and the recipient
// becomes final (and the original may go) only once that DSN is durable. A DSN the spool cannot
// write (disk full, I/O error) is owed: the original stays queued and the DSN is tried again.
#include <ctime>

#include "common/log/logger.h"
#include "mta/bounce/dsn.h"
#include "mta/outbound/scheduler.h"
#include "mta/outbound/scheduler_internal.h"

namespace ec::outbound {

void Scheduler::QueueBounce(Domain& d, std::shared_ptr<spool::SpooledMessage> msg,
                            const std::string& data, std::shared_ptr<OwedBounce> owed) {
  const spool::QueueId id = msg->id;
  const DomainPolicy* policy_ptr = Policy(d);
  if (!policy_ptr) {
    BounceWritten(d, id, std::move(msg), std::move(owed), d.policy_error);
    return;
  }
  const DomainPolicy& policy = *policy_ptr;
  const spool::Envelope& env = msg->envelope;
  const std::string original_id = id.ToString();
  const std::string& remote = owed->remote;
  bounce::DsnInput in;
  in.reporting_mta = global_.hostname;
  in.from = policy.mailerdaemon;
  in.to = env.mail_from;
  in.queue_id = original_id;
  in.envid = env.dsn_envid;
  in.arrival = static_cast<std::time_t>(env.received_us / kSecond);
  in.now = std::time(nullptr);
  in.original = data;
  in.include = policy.bounces_inline == DomainPolicy::Inline::kAll    ? bounce::Include::kAll
               : policy.bounces_inline == DomainPolicy::Inline::kNone ? bounce::Include::kNone
                                                                      : bounce::Include::kHeaders;
  if (env.dsn_ret == spool::DsnRet::kFull) in.include = bounce::Include::kAll;
  if (env.dsn_ret == spool::DsnRet::kHeaders) in.include = bounce::Include::kHeaders;
  for (const auto& [idx, o] : owed->failed) {
    const spool::Recipient& r = env.rcpts[idx];
    if (r.notify & spool::kNotifyNever) continue;
    if (r.notify != 0 && !(r.notify & spool::kNotifyFailure)) continue;
    std::string status = o.reply.enhanced;
    if (status.empty() || status[0] != '5') status = o.expired ? "5.4.7" : "5.0.0";
    in.recipients.push_back(bounce::FailedRecipient{.address = r.address,
                                                    .orcpt = r.orcpt,
                                                    .status = status,
                                                    .diagnostic = o.reply.ToString(),
                                                    .remote_mta = remote,
                                                    .expired = o.expired});
  }
  const bool any_failed = !in.recipients.empty();
  for (const auto& [idx, said] : owed->relayed) {
    const spool::Recipient& r = env.rcpts[idx];
    in.recipients.push_back(bounce::ReportedRecipient{.address = r.address,
                                                      .orcpt = r.orcpt,
                                                      .diagnostic = said,
                                                      .remote_mta = remote,
                                                      .action = bounce::Action::kRelayed});
  }
  if (in.recipients.empty()) {
    BounceWritten(d, id, std::move(msg), std::move(owed), Status::Ok());  // nobody to tell
    return;
  }
  spool::Envelope bounce_env;
  bounce_env.mail_from = "";
  bounce_env.rcpts.push_back(spool::Recipient{.address = env.mail_from});
  bounce_env.received_us = NowUs();
  bounce_env.helo = global_.hostname;
  std::string sender = env.mail_from;
  Domain* dp = &d;  // queues are never erased
  s_.spool->Submit(std::move(bounce_env),
                   any_failed ? bounce::BuildDsn(in) : bounce::BuildRelayedDsn(in),
                   [this, alive = alive_, dp, msg, owed, sender](Result<spool::QueueId> r) {
                     if (!*alive) return;
                     if (r.ok()) {
                       stats_.bounces++;
                       EC_LOG(kInfo, "bounce queued")
                           .Field("original", msg->id.ToString())
                           .Field("id", r->ToString())
                           .Field("to", sender);
                       Add(*r, {sender});
                     }
                     BounceWritten(*dp, msg->id, msg, owed, r.status());
                     Dispatch(*dp);
                   });
}

void Scheduler::BounceWritten(Domain& d, spool::QueueId id,
                              std::shared_ptr<spool::SpooledMessage> msg,
                              std::shared_ptr<OwedBounce> owed, const Status& written) {
  const std::string original = id.ToString();
  if (written.ok() && !owed->final_states.empty()) {
    owed_bounces_.erase({id, &d});
    for (const spool::RecipientUpdate& u : owed->final_states) msg->states[u.index] = u.state;
    Status s = s_.spool->Update(id, owed->final_states);
    if (!s.ok()) EC_LOG(kError, "spool update failed").Field("id", original).Field("error", s);
    Requeue(d, id, *msg);
    return;
  }
  if (written.ok()) return;
  if (owed->final_states.empty()) {
    // Only a "relayed" notice, for recipients already delivered: nothing waits for it.
    EC_LOG(kError, "bounce not queued").Field("original", original).Field("error", written);
    if (s_.logs) s_.logs->Panic("bounce for " + original + " not queued: " + written.ToString());
    return;
  }
  // Disk full or an I/O error: keep the original and its failed recipients pending, and try the
  // DSN again on the domain's retry schedule (the entry waits in delayed_, see MakeReady).
  owed->attempts++;
  owed_bounces_[{id, &d}] = owed;
  const DomainPolicy* policy = Policy(d);
  const int64_t delay_s = policy ? policy->RetryDelay(owed->attempts).count() : 1200;
  EC_LOG(kError, "bounce not queued, original kept")
      .Field("original", original)
      .Field("error", written)
      .Field("attempts", owed->attempts)
      .Field("retry_in_s", delay_s);
  if (s_.logs) {
    s_.logs->Panic("bounce for " + original + " not queued: " + written.ToString() +
                   "; the original stays queued and the bounce is retried in " +
                   std::to_string(delay_s) + " s");
  }
  Queue(d, id, NowUs() + delay_s * kSecond);
}

void Scheduler::RetryBounce(Domain& d, spool::QueueId id, std::shared_ptr<OwedBounce> owed) {
  auto msg = s_.spool->ReadMessage(id);
  Result<std::string> body = msg.ok() ? s_.spool->ReadBody(id) : Result<std::string>(msg.status());
  if (!body.ok() && body.status().code() == StatusCode::kNotFound) {
    owed_bounces_.erase({id, &d});  // deleted meanwhile: nothing left to bounce
    DomainDone(id);
    return;
  }
  if (!body.ok()) {
    BounceWritten(d, id, nullptr, std::move(owed), body.status());
    return;
  }
  QueueBounce(d, std::make_shared<spool::SpooledMessage>(std::move(msg).value()), *body,
              std::move(owed));
}

bool Scheduler::MakeReady(Domain& d, spool::QueueId id) {
  d.delayed--;
  auto owed = owed_bounces_.find({id, &d});
  if (owed == owed_bounces_.end()) {
    d.ready.push_back(id);
    return true;
  }
  RetryBounce(d, id, owed->second);  // needs no connection
  return false;
}

}  // namespace ec::outbound
