#include "msgc/request_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/msgc/bus_test_util.h"

namespace ec::msgc {
namespace {

using ::ec::msgc::testing::TestLoop;
using std::chrono::milliseconds;

class MsgcRequestTableTest : public ::testing::Test {
 protected:
  ReplyCallback Record(const std::string& key) {
    return [this, key](Result<std::string> r) {
      calls_[key]++;
      results_.insert_or_assign(key, std::move(r));
    };
  }
  TestLoop loop_;
  RequestTable table_{loop_.base()};
  std::map<std::string, int> calls_;
  std::map<std::string, Result<std::string>> results_;
};

TEST_F(MsgcRequestTableTest, EachCallbackRunsExactlyOnceWithItsOutcome) {
  const uint64_t answered = table_.Add("a", milliseconds(5000), Record("answered"));
  const uint64_t expired = table_.Add("b", milliseconds(50), Record("expired"));
  const uint64_t failed = table_.Add("c", milliseconds(5000), Record("failed"));
  table_.Add("d", milliseconds(5000), Record("peer_dead"));
  EXPECT_NE(answered, 0u);
  EXPECT_NE(answered, expired);

  EXPECT_FALSE(table_.Complete(answered, "b", std::string("from the wrong peer")));
  EXPECT_TRUE(table_.Complete(answered, "a", std::string("yes")));
  EXPECT_FALSE(table_.Complete(answered, "a", std::string("again")));
  table_.FailSoon(failed, Unavailable("not connected"));
  EXPECT_EQ(calls_.count("failed"), 0u);  // never inside the caller
  EXPECT_FALSE(table_.Complete(failed, "c", std::string("too late")));
  table_.FailPeer("d", Unavailable("declared dead"));

  ASSERT_TRUE(loop_.RunUntil([&] { return table_.size() == 0; }, milliseconds(5000)));
  loop_.RunFor(milliseconds(100));  // no second call may follow
  EXPECT_EQ(calls_, (std::map<std::string, int>{
                        {"answered", 1}, {"expired", 1}, {"failed", 1}, {"peer_dead", 1}}));
  EXPECT_EQ(*results_.at("answered"), "yes");
  EXPECT_EQ(results_.at("expired").status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(results_.at("failed").status().message(), "not connected");
  EXPECT_EQ(results_.at("peer_dead").status().message(), "declared dead");
}

TEST_F(MsgcRequestTableTest, CallbackMayAddRequests) {
  uint64_t second = 0;
  table_.Add("a", milliseconds(10), [&](Result<std::string>) {
    second = table_.Add("a", milliseconds(10), Record("second"));
  });
  ASSERT_TRUE(loop_.RunUntil([&] { return calls_.count("second") == 1; }, milliseconds(5000)));
  EXPECT_NE(second, 0u);
  EXPECT_EQ(table_.size(), 0u);
}

}  // namespace
}  // namespace ec::msgc
