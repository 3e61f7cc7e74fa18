// DaemonSignals: a daemon's signal policy, run on its EventBase. SIGTERM and SIGINT call
// `on_stop` (begin a graceful stop; called again on each further signal), SIGHUP reopens the
// process log (Logger::Global().Reopen(), for logrotate) and calls `on_reload` (reopen the
// daemon's other logs, reload config). SIGPIPE is ignored process-wide, since a peer that
// closes early must be an error return, not a kill. The callbacks run on the loop thread.
// Destroying the object stops watching these signals.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "common/event/event_base.h"
#include "common/event/signal_watcher.h"

namespace ec::daemon {

struct SignalCallbacks {
  std::function<void()> on_stop;    // SIGTERM, SIGINT
  std::function<void()> on_reload;  // SIGHUP
};

class DaemonSignals {
 public:
  static Result<std::unique_ptr<DaemonSignals>> Install(event::EventBase& base,
                                                        SignalCallbacks callbacks);

 private:
  DaemonSignals() = default;
  std::vector<std::unique_ptr<event::SignalWatcher>> watchers_;
};

// signal(SIGPIPE, SIG_IGN).
void IgnoreSigpipe();

}  // namespace ec::daemon
