// KeeperClient: ecmta's end of the keeper (keeper.h). Spawn() starts ec_duravip_keeper as a
// child in its own session with one end of a socketpair as its fd 3 (and nothing else beyond
// stdio), so a signal to ecmta's process group does not take it, and when ecmta dies the socket
// closes and the keeper removes every address it added. Each call sends one request and waits
// at most the reply timeout; a keeper that does not answer in time, answers garbage or exits
// makes the client unusable (kUnavailable from then on) and its socket is closed, so the keeper,
// if it ever wakes, takes the addresses down rather than keeping them for a client that gave up.
// Owns the socket and the child pid; not thread-safe: one thread (ecmta's cluster loop) uses it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/daemon/unique_fd.h"
#include "duravip/keeper_protocol.h"
#include "duravip/vip_address.h"

namespace ec::duravip {

inline constexpr char kKeeperBinaryName[] = "ec_duravip_keeper";

// ec_duravip_keeper beside the running executable (/proc/self/exe).
Result<std::string> DefaultKeeperPath();

class KeeperClient {
 public:
  static constexpr std::chrono::milliseconds kDefaultReplyTimeout{2000};
  // How long the destructor waits for the keeper to clean up and exit.
  static constexpr std::chrono::milliseconds kExitWait{2000};

  struct SpawnOptions {
    std::string binary;             // empty: DefaultKeeperPath()
    std::vector<std::string> args;  // after argv[0], e.g. {"--node-name", "n1"}
    std::chrono::milliseconds reply_timeout = kDefaultReplyTimeout;
  };

  // Starts the keeper. kNotFound / kPermissionDenied naming the path when it cannot be run.
  static Result<std::unique_ptr<KeeperClient>> Spawn(const SpawnOptions& options);
  static Result<std::unique_ptr<KeeperClient>> Spawn(const std::string& binary) {
    return Spawn(SpawnOptions{.binary = binary});
  }

  // Talks over an already connected socket; `pid` is the keeper's to reap, or -1 (tests).
  KeeperClient(daemon::UniqueFd socket, pid_t pid,
               std::chrono::milliseconds reply_timeout = kDefaultReplyTimeout);
  // Closes the socket (the keeper removes its addresses and exits), then waits up to kExitWait
  // to reap it; a keeper still running after that is left alone (killing it would leave its
  // addresses behind).
  ~KeeperClient();
  KeeperClient(const KeeperClient&) = delete;
  KeeperClient& operator=(const KeeperClient&) = delete;

  Status Add(const VipAddress& vip);
  // Removes an address this node holds; an absent one is fine.
  Status Remove(const VipAddress& vip);
  // Removes the address if it is on the interface, whoever added it; true if it was.
  Result<bool> Flush(const VipAddress& vip);
  Status Announce(const VipAddress& vip, int count);
  // Sets and renews the lease: without a request within `lease`, the keeper drops every address.
  // Every request renews it; 0 turns it off. True when renewed; false when the lease had lapsed
  // since the last Renew (noticed now or by an earlier call): the keeper removed every address,
  // and the lease runs again from now.
  Result<bool> Renew(std::chrono::milliseconds lease);
  // What the keeper holds for us.
  Result<std::vector<VipAddress>> Held();

  // True once after a reply said the lease had lapsed: the keeper removed every address and did
  // not carry that request out (it failed with kFailedPrecondition). Renew() consumes it too.
  bool TakeLeaseExpired();
  // The keeper's pid, or -1.
  pid_t pid() const { return pid_; }
  // Whether the connection still works.
  bool usable() const { return socket_.valid(); }

 private:
  // Sends `request`, waits for its reply. kUnavailable / kDeadlineExceeded break the client.
  Result<KeeperReply> Call(const KeeperRequest& request);
  Status Break(Status why);
  // Reaps the child if it exits within `wait`; how it ended, or "" (still running, no child).
  std::string ReapIfExited(std::chrono::milliseconds wait);

  daemon::UniqueFd socket_;
  pid_t pid_ = -1;
  std::chrono::milliseconds reply_timeout_;
  LineReader reader_{kMaxReplyLine};
  bool lease_expired_ = false;
  Status broken_;  // why the client stopped working
};

}  // namespace ec::duravip
