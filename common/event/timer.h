// Timer: a one-shot or repeating timeout on an EventBase that calls a std::function on the
// loop thread. Owned by whoever needs the timeout (a session's idle timer, a retry schedule);
// destroying it cancels it. Loop thread only. The callback may Start/Stop the timer, and may
// destroy it (the callback in progress stays alive until it returns).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "common/event/event_base.h"

namespace ec::event {

class Timer {
 public:
  Timer(EventBase& base, std::function<void()> callback);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  // Fires once after `delay`; restarts the countdown if already pending.
  void Start(std::chrono::milliseconds delay);
  // Fires every `interval` until Stop().
  void StartRepeating(std::chrono::milliseconds interval);
  void Stop();
  bool IsPending() const;

 private:
  void Arm(short flags, std::chrono::milliseconds delay);
  static void OnFire(evutil_socket_t, short, void* arg);

  event_base* base_;
  std::shared_ptr<const std::function<void()>> callback_;
  EventPtr event_;
};

timeval ToTimeval(std::chrono::milliseconds ms);

}  // namespace ec::event
