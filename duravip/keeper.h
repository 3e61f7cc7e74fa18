// Keeper: the loop inside ec_duravip_keeper, the small privileged process that owns this node's
// virtual IP addresses on behalf of ecmta. It serves keeper_protocol.h requests on one socket
// and removes every address it added the moment ecmta is gone: on EOF (ecmta exited, crashed,
// was killed -9) and on SIGTERM, after which it exits. A stalled ecmta is caught by the lease:
// when no request comes within <ms>, every address goes, the keeper stays, and its next reply
// is `err expired` without carrying the request out (it was decided on a stale view).
// Owns its held set; borrows the Plumber. One thread: Serve() runs the whole process.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "duravip/keeper_protocol.h"
#include "duravip/plumber.h"

namespace ec::duravip {

class Keeper {
 public:
  using Clock = std::chrono::steady_clock;

  // A reply that cannot be written within this long means ecmta is not reading: it is treated
  // as gone.
  static constexpr std::chrono::milliseconds kSendTimeout{2000};

  explicit Keeper(Plumber* plumber) : plumber_(plumber) {}
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;

  // Serves requests on `fd` (a connected stream socket) until EOF, an I/O error, or `stop_fd`
  // (a signalfd; -1 for none) becoming readable; then removes every held address. Ok when the
  // peer went away (or a stop was asked) and every address came off; else the first failure.
  Status Serve(int fd, int stop_fd = -1);

  // One request line (without LF) handled at `now`: returns the reply line (without LF) and
  // renews the lease. Serve's step, public for tests.
  std::string Handle(std::string_view line, Clock::time_point now);
  // The reply to a line longer than kMaxRequestLine.
  std::string HandleTooLong(Clock::time_point now);
  // When the lease lapses if no request comes; nullopt when no lease runs.
  std::optional<Clock::time_point> deadline() const { return deadline_; }
  // The lease lapsed: removes every held address; the next reply reports it.
  void Expire();
  // Removes every held address (logging each, with `reason`); returns the first failure. What
  // could not be removed stays held, to be tried again.
  Status RemoveAll(std::string_view reason);

  const std::set<VipAddress>& held() const { return held_; }

 private:
  KeeperReply Execute(const KeeperRequest& request);
  // The pending expiry notice as a reply, once; nullopt when there is none.
  std::optional<std::string> TakeExpiredReply(Clock::time_point now);
  void Renew(Clock::time_point now);

  Plumber* plumber_;
  std::set<VipAddress> held_;
  int64_t lease_ms_ = 0;  // 0: no lease
  std::optional<Clock::time_point> deadline_;
  std::optional<std::string> expired_;  // the notice for the next reply
};

}  // namespace ec::duravip
