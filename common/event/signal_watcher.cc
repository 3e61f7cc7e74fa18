#include "common/event/signal_watcher.h"

#include <string.h>

#include <string>

#include "common/event/callback_guard.h"

namespace ec::event {

Result<std::unique_ptr<SignalWatcher>> SignalWatcher::Create(EventBase& base, int signo,
                                                             std::function<void()> callback) {
  std::unique_ptr<SignalWatcher> watcher(new SignalWatcher(signo, std::move(callback)));
  watcher->event_.reset(evsignal_new(base.get(), signo, &SignalWatcher::OnSignal, watcher.get()));
  if (!watcher->event_) return Internal("evsignal_new failed for signal " + std::to_string(signo));
  if (evsignal_add(watcher->event_.get(), nullptr) != 0) {
    return Internal(std::string("cannot watch signal ") + strsignal(signo) +
                    " (another event loop may own it)");
  }
  return watcher;
}

SignalWatcher::SignalWatcher(int signo, std::function<void()> callback)
    : signo_(signo), callback_(std::move(callback)) {}

SignalWatcher::~SignalWatcher() = default;

void SignalWatcher::OnSignal(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<SignalWatcher*>(arg);
  CallNoThrow("SignalWatcher", self->callback_);
}

}  // namespace ec::event
