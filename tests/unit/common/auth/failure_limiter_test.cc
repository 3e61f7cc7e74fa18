#include "common/auth/failure_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::auth {
namespace {

using Limiter = FailureLimiter;

TEST(FailureLimiter, BlocksAfterMaxFailuresUntilTheWindowEnds) {
  Limiter l;
  const auto t0 = Limiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < Limiter::kMaxFailures; ++i) {
    EXPECT_FALSE(l.Blocked("192.0.2.1", t0)) << i;
    l.Failed("192.0.2.1", t0);
  }
  EXPECT_TRUE(l.Blocked("192.0.2.1", t0));
  EXPECT_TRUE(l.Blocked("192.0.2.1", t0 + Limiter::kWindow - std::chrono::seconds(1)));
  EXPECT_FALSE(l.Blocked("192.0.2.2", t0)) << "other addresses are not affected";
  EXPECT_FALSE(l.Blocked("192.0.2.1", t0 + Limiter::kWindow));
  l.Failed("192.0.2.1", t0 + Limiter::kWindow);  // a new window starts at one failure
  EXPECT_FALSE(l.Blocked("192.0.2.1", t0 + Limiter::kWindow));
}

TEST(FailureLimiter, MemoryIsBounded) {
  Limiter l;
  const auto t0 = Limiter::Clock::time_point{} + std::chrono::hours(1);
  for (size_t i = 0; i < Limiter::kMaxTracked * 2 + 5; ++i) {
    l.Failed("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                 std::to_string(i & 255),
             t0);
    ASSERT_LE(l.tracked(), Limiter::kMaxTracked);
  }
}

}  // namespace
}  // namespace ec::auth
