#include "common/event/event_base.h"

#include <event2/thread.h>

#include <mutex>

#include "common/event/callback_guard.h"

namespace ec::event {
namespace {

std::once_flag g_threads_once;

// Marks the running loop's thread for the lifetime of one Run()/RunUntil().
class LoopThreadScope {
 public:
  explicit LoopThreadScope(std::atomic<std::thread::id>* id) : id_(id) {
    id_->store(std::this_thread::get_id());
  }
  ~LoopThreadScope() { id_->store(std::thread::id()); }

 private:
  std::atomic<std::thread::id>* id_;
};

}  // namespace

Result<std::unique_ptr<EventBase>> EventBase::Create() {
  std::call_once(g_threads_once, [] { evthread_use_pthreads(); });
  EventBasePtr base(event_base_new());
  if (!base) return Internal("event_base_new failed");
  return std::unique_ptr<EventBase>(new EventBase(std::move(base)));
}

EventBase::EventBase(EventBasePtr base) : base_(std::move(base)) {
  wakeup_.reset(event_new(base_.get(), -1, 0, &EventBase::OnWakeup, this));
  EC_CHECK(wakeup_ != nullptr);
}

EventBase::~EventBase() {
  wakeup_.reset();
  base_.reset();
}

Status EventBase::Run() {
  LoopThreadScope scope(&loop_thread_);
  if (event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY) < 0) {
    return Internal("event_base_loop failed");
  }
  return Status::Ok();
}

bool EventBase::RunUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  LoopThreadScope scope(&loop_thread_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool expired = false;
  // The deadline timer only wakes the loop; `expired` is decided by the clock below.
  EventPtr deadline_event(event_new(
      base_.get(), -1, 0, [](evutil_socket_t, short, void*) {}, nullptr));
  EC_CHECK(deadline_event != nullptr);
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  event_add(deadline_event.get(), &tv);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      expired = true;
      break;
    }
    event_base_loop(base_.get(), EVLOOP_ONCE);
  }
  return !expired;
}

void EventBase::Stop() {
  stop_requested_.store(true);
  event_active(wakeup_.get(), EV_TIMEOUT, 0);
}

void EventBase::RunInLoop(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(fn));
  }
  event_active(wakeup_.get(), EV_TIMEOUT, 0);
}

bool EventBase::InLoopThread() const {
  std::thread::id id = loop_thread_.load();
  return id == std::thread::id() || id == std::this_thread::get_id();
}

void EventBase::OnWakeup(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<EventBase*>(arg);
  self->RunPending();
  if (self->stop_requested_.exchange(false)) event_base_loopbreak(self->base_.get());
}

void EventBase::RunPending() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(pending_);
  }
  for (auto& task : tasks) CallNoThrow("EventBase::RunInLoop task", task);
}

}  // namespace ec::event
