#include "manager/dashboard/history.h"

#include <gtest/gtest.h>

namespace ec::manager::dashboard {
namespace {

Sample At(int64_t ms, uint64_t received, uint64_t queue = 0, uint64_t incarnation = 1) {
  return {ms, incarnation, received, received / 2, 0, queue};
}

TEST(History, RatesBetweenConsecutiveSamplesOfOneRun) {
  History h;
  h.Add("node1", At(10000, 100, 5));
  h.Add("node1", At(12000, 140, 7));  // 40 in 2 s
  EXPECT_EQ(h.Json(12000),
            "{\"now_ms\":12000,\"window_ms\":900000,\"members\":{\"node1\":["
            "{\"t\":10000,\"received_per_s\":null,\"delivered_per_s\":null,"
            "\"failed_per_s\":null,\"queue\":5},"
            "{\"t\":12000,\"received_per_s\":20.00,\"delivered_per_s\":10.00,"
            "\"failed_per_s\":0.00,\"queue\":7}]}}\n");
}

TEST(History, ARestartOrACounterGoingBackIsNotANegativeRate) {
  History h;
  h.Add("n", At(1000, 500));
  h.Add("n", At(2000, 3, 0, 2));  // new incarnation
  h.Add("n", At(3000, 13, 0, 2));
  h.Add("n", At(4000, 1, 0, 2));  // counters reset within one incarnation
  const std::string json = h.Json(4000);
  EXPECT_NE(json.find("{\"t\":2000,\"received_per_s\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"t\":3000,\"received_per_s\":10.00"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"t\":4000,\"received_per_s\":null"), std::string::npos) << json;
}

TEST(History, BoundedInCountAndAge) {
  History h(std::chrono::milliseconds(10000), 4);
  for (int i = 0; i < 10; ++i) h.Add("n", At(1000 * i, i));
  EXPECT_EQ(h.size("n"), 4u);
  History aged(std::chrono::milliseconds(2500), 100);
  for (int i = 0; i < 10; ++i) aged.Add("n", At(1000 * i, i));
  EXPECT_EQ(aged.size("n"), 3u);  // 6.5 s .. 9 s: 7, 8, 9
  // At a later `now` the old points drop out of the JSON, but the rate of the first one shown
  // still comes from its predecessor.
  const std::string json = aged.Json(11000);
  EXPECT_EQ(json.find("\"t\":7000"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"t\":9000,\"received_per_s\":1.00"), std::string::npos) << json;
}

TEST(History, CloseOrOlderSamplesDoNotMakeBursts) {
  History h;
  h.Add("n", At(1000, 10));
  h.Add("n", At(1005, 11));  // a fetched record right after a shouted one replaces it
  EXPECT_EQ(h.size("n"), 1u);
  h.Add("n", At(500, 99));  // the clock stepped back: dropped
  EXPECT_EQ(h.size("n"), 1u);
  h.Add("n", At(2005, 21));
  EXPECT_NE(h.Json(2005).find("{\"t\":2005,\"received_per_s\":10.00"), std::string::npos);
}

TEST(History, ForgetAndSampleOf) {
  History h;
  msgc::HealthRecord r;
  r.member = "a\"b";
  r.incarnation = 7;
  r.received = 3;
  r.queue_size = 9;
  const Sample s = SampleOf(r, 42);
  EXPECT_EQ(s.unix_ms, 42);
  EXPECT_EQ(s.incarnation, 7u);
  EXPECT_EQ(s.queue_size, 9u);
  h.Add(r.member, s);
  EXPECT_NE(h.Json(42).find("\"a\\\"b\":[{\"t\":42"), std::string::npos) << h.Json(42);
  h.Forget(r.member);
  EXPECT_EQ(h.Json(42), "{\"now_ms\":42,\"window_ms\":900000,\"members\":{}}\n");
  EXPECT_GT(NowUnixMs(), int64_t{1700000000000});
}

}  // namespace
}  // namespace ec::manager::dashboard
