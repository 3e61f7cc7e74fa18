#include "common/event/timer.h"

#include "common/event/callback_guard.h"

namespace ec::event {

timeval ToTimeval(std::chrono::milliseconds ms) {
  if (ms.count() < 0) ms = std::chrono::milliseconds(0);
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Timer::Timer(EventBase& base, std::function<void()> callback)
    : base_(base.get()),
      callback_(std::make_shared<const std::function<void()>>(std::move(callback))),
      event_(event_new(base_, -1, 0, &Timer::OnFire, this)) {
  EC_CHECK(event_ != nullptr);
}

Timer::~Timer() = default;

void Timer::Arm(short flags, std::chrono::milliseconds delay) {
  event_del(event_.get());
  // Re-assigning a non-pending event changes one-shot/persist without a new allocation.
  EC_CHECK(event_assign(event_.get(), base_, -1, flags, &Timer::OnFire, this) == 0);
  timeval tv = ToTimeval(delay);
  EC_CHECK(event_add(event_.get(), &tv) == 0);
}

void Timer::Start(std::chrono::milliseconds delay) { Arm(0, delay); }

void Timer::StartRepeating(std::chrono::milliseconds interval) { Arm(EV_PERSIST, interval); }

void Timer::Stop() { event_del(event_.get()); }

bool Timer::IsPending() const { return event_pending(event_.get(), EV_TIMEOUT, nullptr) != 0; }

void Timer::OnFire(evutil_socket_t, short, void* arg) {
  // A copy of the shared callback keeps it alive if the callback destroys this Timer.
  std::shared_ptr<const std::function<void()>> callback = static_cast<Timer*>(arg)->callback_;
  CallNoThrow("Timer", *callback);
}

}  // namespace ec::event
