#include "common/event/event_base.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "common/event/signal_watcher.h"
#include "common/event/timer.h"

namespace ec::event {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kDeadline(10000);

std::unique_ptr<EventBase> NewBase() {
  auto base = EventBase::Create();
  EC_CHECK(base.ok());
  return std::move(base).value();
}

TEST(Timer, OneShotFiresOnce) {
  auto base = NewBase();
  int fired = 0;
  Timer timer(*base, [&] { ++fired; });
  timer.Start(milliseconds(5));
  EXPECT_TRUE(timer.IsPending());
  ASSERT_TRUE(base->RunUntil([&] { return fired > 0; }, kDeadline));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.IsPending());
  // A second timer proves the loop ran on after the first fired; the first stays quiet.
  int other = 0;
  Timer later(*base, [&] { ++other; });
  later.Start(milliseconds(30));
  ASSERT_TRUE(base->RunUntil([&] { return other > 0; }, kDeadline));
  EXPECT_EQ(fired, 1);
}

TEST(Timer, RepeatsUntilStopped) {
  auto base = NewBase();
  int fired = 0;
  std::unique_ptr<Timer> timer;
  timer = std::make_unique<Timer>(*base, [&] {
    if (++fired == 3) timer->Stop();
  });
  timer->StartRepeating(milliseconds(2));
  ASSERT_TRUE(base->RunUntil([&] { return fired >= 3; }, kDeadline));
  EXPECT_FALSE(timer->IsPending());
  EXPECT_EQ(fired, 3);
}

TEST(Timer, StopCancels) {
  auto base = NewBase();
  int fired = 0;
  Timer timer(*base, [&] { ++fired; });
  timer.Start(milliseconds(1));
  timer.Stop();
  EXPECT_FALSE(timer.IsPending());
  int probe = 0;
  Timer after(*base, [&] { ++probe; });
  after.Start(milliseconds(20));
  ASSERT_TRUE(base->RunUntil([&] { return probe > 0; }, kDeadline));
  EXPECT_EQ(fired, 0);
}

TEST(Timer, CallbackMayDestroyItsTimer) {
  auto base = NewBase();
  bool fired = false;
  std::unique_ptr<Timer> timer;
  timer = std::make_unique<Timer>(*base, [&] {
    timer.reset();
    fired = true;
  });
  timer->Start(milliseconds(1));
  ASSERT_TRUE(base->RunUntil([&] { return fired; }, kDeadline));
  EXPECT_EQ(timer, nullptr);
}

TEST(Timer, ExceptionDoesNotEscapeIntoLibevent) {
  auto base = NewBase();
  int fired = 0;
  Timer timer(*base, [&] {
    ++fired;
    throw std::runtime_error("boom");
  });
  timer.StartRepeating(milliseconds(1));
  ASSERT_TRUE(base->RunUntil([&] { return fired >= 2; }, kDeadline));
}

TEST(EventBase, RunUntilTimesOut) {
  auto base = NewBase();
  EXPECT_FALSE(base->RunUntil([] { return false; }, milliseconds(20)));
}

TEST(EventBase, RunInLoopFromAnotherThread) {
  auto base = NewBase();
  std::atomic<int> ran{0};
  std::thread::id ran_on;
  std::thread poster([&] {
    for (int i = 0; i < 10; ++i) {
      base->RunInLoop([&] {
        ran_on = std::this_thread::get_id();
        ++ran;
      });
    }
  });
  ASSERT_TRUE(base->RunUntil([&] { return ran.load() == 10; }, kDeadline));
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventBase, StopFromAnotherThreadEndsRun) {
  auto base = NewBase();
  std::atomic<bool> running{false};
  base->RunInLoop([&] { running = true; });
  std::thread stopper([&] {
    // Bounded wait for the loop to start, then stop it.
    for (int i = 0; i < 100000 && !running.load(); ++i) std::this_thread::yield();
    base->Stop();
  });
  ASSERT_TRUE(base->Run().ok());
  stopper.join();
  EXPECT_TRUE(running.load());
}

TEST(EventBase, StopBeforeRunReturnsAtOnce) {
  auto base = NewBase();
  base->Stop();
  EXPECT_TRUE(base->Run().ok());
}

TEST(SignalWatcher, SignalRunsCallbackOnLoop) {
  auto base = NewBase();
  int count = 0;
  auto watcher = SignalWatcher::Create(*base, SIGUSR1, [&] { ++count; });
  ASSERT_TRUE(watcher.ok()) << watcher.status().ToString();
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_TRUE(base->RunUntil([&] { return count == 1; }, kDeadline));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_TRUE(base->RunUntil([&] { return count == 2; }, kDeadline));
}

}  // namespace
}  // namespace ec::event
