#include "duravip/keeper.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/log/logger.h"

namespace ec::duravip {
namespace {

// Writes all of `data`; false when the peer is gone or not reading (SO_SNDTIMEO).
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

KeeperReply Error(Status status) { return KeeperReply{.status = std::move(status)}; }
KeeperReply Ok(std::vector<std::string> words = {}) { return KeeperReply{.words = words}; }

}  // namespace

void Keeper::Renew(Clock::time_point now) {
  if (lease_ms_ > 0) {
    deadline_ = now + std::chrono::milliseconds(lease_ms_);
  } else {
    deadline_.reset();
  }
}

std::optional<std::string> Keeper::TakeExpiredReply(Clock::time_point now) {
  if (!expired_) return std::nullopt;
  KeeperReply reply{.status = Status(StatusCode::kFailedPrecondition, *expired_), .expired = true};
  expired_.reset();
  Renew(now);
  return FormatReply(reply);
}

std::string Keeper::HandleTooLong(Clock::time_point now) {
  if (auto expired = TakeExpiredReply(now)) return *expired;
  Renew(now);
  EC_LOG(kWarn, "bad request").Field("error", "line too long");
  return FormatReply(Error(
      InvalidArgument("request line longer than " + std::to_string(kMaxRequestLine) + " bytes")));
}

std::string Keeper::Handle(std::string_view line, Clock::time_point now) {
  if (auto expired = TakeExpiredReply(now)) {
    EC_LOG(kWarn, "request refused after lease expiry").Field("request", line);
    return *expired;
  }
  Result<KeeperRequest> request = ParseRequest(line);
  KeeperReply reply;
  if (!request.ok()) {
    EC_LOG(kWarn, "bad request").Field("error", request.status().message());
    reply = Error(request.status());
  } else {
    reply = Execute(*request);
  }
  Renew(now);
  return FormatReply(reply);
}

KeeperReply Keeper::Execute(const KeeperRequest& request) {
  const VipAddress& vip = request.vip;
  const std::string text = vip.ToString();
  switch (request.command) {
    case KeeperCommand::kAdd: {
      if (held_.count(vip) == 0 && held_.size() >= kMaxHeld) {
        return Error(ResourceExhausted("the keeper already holds " + std::to_string(kMaxHeld) +
                                       " addresses"));
      }
      Status s = plumber_->Add(vip);
      if (!s.ok()) {
        EC_LOG(kWarn, "vip add failed").Field("vip", text).Field("error", s);
        return Error(std::move(s));
      }
      held_.insert(vip);
      EC_LOG(kInfo, "vip added").Field("vip", text).Field("held", held_.size());
      return Ok();
    }
    case KeeperCommand::kDel: {
      Status s = plumber_->Remove(vip);
      if (!s.ok()) {
        EC_LOG(kWarn, "vip remove failed").Field("vip", text).Field("error", s);
        return Error(std::move(s));
      }
      held_.erase(vip);
      EC_LOG(kInfo, "vip removed").Field("vip", text).Field("reason", "del");
      return Ok();
    }
    case KeeperCommand::kFlush: {
      // Also for addresses this keeper did not add: what a crashed predecessor left behind.
      Result<bool> present = plumber_->Present(vip);
      if (!present.ok()) {
        EC_LOG(kWarn, "vip flush failed").Field("vip", text).Field("error", present.status());
        return Error(present.status());
      }
      if (*present) {
        Status s = plumber_->Remove(vip);
        if (!s.ok()) {
          EC_LOG(kWarn, "vip flush failed").Field("vip", text).Field("error", s);
          return Error(std::move(s));
        }
      }
      held_.erase(vip);
      EC_LOG(kInfo, "vip flushed").Field("vip", text).Field("was_present", *present);
      return Ok({*present ? "removed" : "absent"});
    }
    case KeeperCommand::kAnnounce: {
      Status s = plumber_->Announce(vip, request.count);
      if (!s.ok()) {
        EC_LOG(kWarn, "vip announce failed").Field("vip", text).Field("error", s);
        return Error(std::move(s));
      }
      EC_LOG(kInfo, "vip announced").Field("vip", text).Field("count", request.count);
      return Ok();
    }
    case KeeperCommand::kLease: {
      if (request.lease_ms != lease_ms_) {
        EC_LOG(kInfo, "lease set").Field("lease_ms", request.lease_ms);
      } else {
        EC_LOG(kDebug, "lease renewed").Field("lease_ms", request.lease_ms);
      }
      lease_ms_ = request.lease_ms;
      return Ok();
    }
    case KeeperCommand::kHeld: {
      EC_LOG(kDebug, "held listed").Field("held", held_.size());
      return Ok(HeldWords(std::vector<VipAddress>(held_.begin(), held_.end())));
    }
  }
  return Error(Internal("unhandled command"));
}

void Keeper::Expire() {
  const size_t before = held_.size();
  const Status s = RemoveAll("lease expired");
  EC_LOG(kWarn, "lease expired")
      .Field("lease_ms", lease_ms_)
      .Field("removed", before - held_.size())
      .Field("error", s);
  expired_ = "lease of " + std::to_string(lease_ms_) + " ms lapsed; removed " +
             std::to_string(before - held_.size()) + " of " + std::to_string(before) +
             " addresses; request not carried out";
  deadline_.reset();  // until the next request
}

Status Keeper::RemoveAll(std::string_view reason) {
  Status first;
  for (auto it = held_.begin(); it != held_.end();) {
    Status s = plumber_->Remove(*it);
    if (s.ok()) {
      EC_LOG(kInfo, "vip removed").Field("vip", it->ToString()).Field("reason", reason);
      it = held_.erase(it);
    } else {
      EC_LOG(kError, "vip remove failed")
          .Field("vip", it->ToString())
          .Field("reason", reason)
          .Field("error", s);
      if (first.ok()) first = std::move(s);
      ++it;
    }
  }
  return first;
}

Status Keeper::Serve(int fd, int stop_fd) {
  const timeval send_timeout{.tv_sec = kSendTimeout.count() / 1000,
                             .tv_usec = (kSendTimeout.count() % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout)) != 0) {
    return ErrnoStatus("keeper socket: setting SO_SNDTIMEO", errno);
  }
  LineReader reader(kMaxRequestLine);
  std::vector<char> buf(4096);
  std::string line;
  for (;;) {
    Clock::time_point now = Clock::now();
    if (deadline_ && now >= *deadline_) Expire();
    int timeout_ms = -1;
    if (deadline_) {
      // Rounded up, so the wake-up is never before the deadline.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - now);
      timeout_ms = static_cast<int>(left.count());
    }
    pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    const int n = poll(fds, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Status error = ErrnoStatus("keeper: poll", errno);
      (void)RemoveAll("keeper error");
      return error;
    }
    if (n == 0) continue;  // the lease deadline: handled at the top
    if (stop_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
      EC_LOG(kInfo, "keeper stopping").Field("reason", "signal").Field("held", held_.size());
      return RemoveAll("signal");
    }
    if (fds[0].revents == 0) continue;
    const ssize_t got = read(fd, buf.data(), buf.size());
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      const std::string reason = got == 0 ? "peer closed" : ErrnoStatus("read", errno).message();
      EC_LOG(kInfo, "keeper stopping").Field("reason", reason).Field("held", held_.size());
      return RemoveAll(reason);
    }
    // A request that arrives after the deadline does not save the lease.
    now = Clock::now();
    if (deadline_ && now >= *deadline_) Expire();
    reader.Append(std::string_view(buf.data(), static_cast<size_t>(got)));
    for (;;) {
      const LineReader::Next next = reader.Pop(&line);
      if (next == LineReader::Next::kNeedMore) break;
      const std::string reply =
          (next == LineReader::Next::kTooLong ? HandleTooLong(now) : Handle(line, now)) + "\n";
      if (!SendAll(fd, reply)) {
        const Status error = ErrnoStatus("keeper: sending a reply", errno);
        EC_LOG(kWarn, "keeper stopping").Field("reason", error.message());
        (void)RemoveAll("peer not reading");
        return error;
      }
      now = Clock::now();
    }
  }
}

}  // namespace ec::duravip
