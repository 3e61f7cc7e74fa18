// EventBase: owns one libevent event_base, the loop a daemon (or one of its threads) runs on.
// Everything registered on it (Timer, SignalWatcher, Listener, bufferevents) must be destroyed
// before it, on the loop thread. Stop() and RunInLoop() may be called from any thread (libevent
// is initialised with pthreads locking); everything else belongs to the loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/base/status.h"
#include "common/event/handles.h"

namespace ec::event {

class EventBase {
 public:
  static Result<std::unique_ptr<EventBase>> Create();
  EventBase(const EventBase&) = delete;
  EventBase& operator=(const EventBase&) = delete;
  ~EventBase();

  event_base* get() const { return base_.get(); }

  // Runs the loop, even with nothing registered, until Stop(). A Stop() that came before
  // Run() makes it return at once.
  Status Run();
  // Runs the loop until `done()` holds (checked after each batch of callbacks) or `timeout`
  // passes; true if done. For tests, clients and shutdown drains.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Makes Run() return after the callbacks in progress. Thread-safe.
  void Stop();
  // Queues `fn` to run on the loop thread, in order of submission. Thread-safe; never runs
  // `fn` inline. Tasks still queued when the EventBase is destroyed are dropped.
  void RunInLoop(std::function<void()> fn);
  // True on the thread inside Run()/RunUntil(), or on any thread when no loop is running.
  bool InLoopThread() const;

 private:
  EventBase(EventBasePtr base);
  static void OnWakeup(evutil_socket_t, short, void* arg);
  void RunPending();

  EventBasePtr base_;
  EventPtr wakeup_;  // activated (never added) to run queued tasks or a Stop()
  std::mutex mu_;
  std::vector<std::function<void()>> pending_;  // guarded by mu_
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> loop_thread_{};
};

}  // namespace ec::event
