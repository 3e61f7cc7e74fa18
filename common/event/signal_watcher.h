// SignalWatcher: runs a callback on the loop thread whenever a POSIX signal arrives (libevent
// turns the signal into a loop event, so the callback may do anything, unlike a raw handler).
// One EventBase per signal in the process. Loop thread only; destroying it stops watching and
// restores the previous disposition.
#pragma once

#include <functional>
#include <memory>

#include "common/event/event_base.h"

namespace ec::event {

class SignalWatcher {
 public:
  static Result<std::unique_ptr<SignalWatcher>> Create(EventBase& base, int signo,
                                                       std::function<void()> callback);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  ~SignalWatcher();

  int signo() const { return signo_; }

 private:
  SignalWatcher(int signo, std::function<void()> callback);
  static void OnSignal(evutil_socket_t, short, void* arg);

  int signo_;
  std::function<void()> callback_;
  EventPtr event_;
};

}  // namespace ec::event
