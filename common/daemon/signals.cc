#include "common/daemon/signals.h"

#include <signal.h>

#include "common/log/logger.h"

namespace ec::daemon {

void IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }

Result<std::unique_ptr<DaemonSignals>> DaemonSignals::Install(event::EventBase& base,
                                                              SignalCallbacks callbacks) {
  IgnoreSigpipe();
  std::unique_ptr<DaemonSignals> out(new DaemonSignals());
  auto stop = [cb = callbacks.on_stop](const char* name) {
    return [cb, name] {
      EC_LOG(kInfo, "signal received; stopping").Field("signal", name);
      if (cb) cb();
    };
  };
  auto reload = [cb = callbacks.on_reload] {
    // logrotate renamed the process log before signalling: start the new file first.
    Status reopened = log::Logger::Global().Reopen();
    EC_LOG(kInfo, "signal received; reloading").Field("signal", "SIGHUP");
    if (!reopened.ok()) EC_LOG(kError, "cannot reopen the log").Field("error", reopened);
    if (cb) cb();
  };
  struct Entry {
    int signo;
    std::function<void()> fn;
  };
  const Entry entries[] = {{SIGTERM, stop("SIGTERM")}, {SIGINT, stop("SIGINT")}, {SIGHUP, reload}};
  for (const Entry& e : entries) {
    EC_ASSIGN_OR_RETURN(auto watcher, event::SignalWatcher::Create(base, e.signo, e.fn));
    out->watchers_.push_back(std::move(watcher));
  }
  return out;
}

}  // namespace ec::daemon
