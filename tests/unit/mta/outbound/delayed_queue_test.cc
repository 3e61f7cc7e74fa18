#include "mta/outbound/delayed_queue.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "tests/unit/testing/run_budget.h"

namespace ec::outbound {
namespace {

struct Q {
  int n = 0;
};
using Queue = DelayedQueue<Q>;
using Key = std::tuple<int64_t, uint64_t>;  // (due, id): the order entries come out in

spool::QueueId Id(uint64_t v) { return spool::QueueId(v); }

TEST(DelayedQueue, PopsEarliestFirstAndSameDueInIdOrder) {
  Q a, b;
  Queue q;
  EXPECT_TRUE(q.empty());
  q.Push(30, &a, Id(1));
  q.Push(10, &b, Id(7));
  q.Push(10, &a, Id(3));
  q.Push(20, &b, Id(2));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.next_due_us(), 10);
  std::vector<std::tuple<int64_t, Q*, uint64_t>> got;
  while (!q.empty()) {
    auto e = q.Pop();
    got.emplace_back(e.due_us, e.queue, e.id.value());
  }
  EXPECT_EQ(got, (std::vector<std::tuple<int64_t, Q*, uint64_t>>{
                     {10, &a, 3}, {10, &b, 7}, {20, &b, 2}, {30, &a, 1}}));
}

TEST(DelayedQueue, RemoveIfReturnsMatchesEarliestFirstAndKeepsTheHeap) {
  Q a, b;
  Queue q;
  for (uint64_t i = 1; i <= 20; ++i) q.Push(static_cast<int64_t>(100 - i), i % 2 ? &a : &b, Id(i));
  auto removed = q.RemoveIf([&](const Queue::Entry& e) { return e.queue == &a; });
  ASSERT_EQ(removed.size(), 10u);
  for (size_t i = 1; i < removed.size(); ++i) EXPECT_LT(removed[i - 1].due_us, removed[i].due_us);
  for (const auto& e : removed) EXPECT_EQ(e.queue, &a);
  EXPECT_EQ(q.size(), 10u);
  int64_t last = 0;
  while (!q.empty()) {
    auto e = q.Pop();
    EXPECT_EQ(e.queue, &b);
    EXPECT_GE(e.due_us, last);
    last = e.due_us;
  }
  EXPECT_TRUE(q.RemoveIf([](const Queue::Entry&) { return true; }).empty());
}

TEST(DelayedQueue, ForEachVisitsEveryEntryAndStopsWhenAsked) {
  Q a;
  Queue q;
  for (uint64_t i = 1; i <= 9; ++i) q.Push(static_cast<int64_t>(i * 7 % 5), &a, Id(i));
  uint64_t sum = 0;
  q.ForEach([&](const Queue::Entry& e) {
    sum += e.id.value();
    return true;
  });
  EXPECT_EQ(sum, 45u);
  int seen = 0;
  q.ForEach([&](const Queue::Entry&) { return ++seen < 3; });
  EXPECT_EQ(seen, 3);
}

// Against a std::multimap keyed by (due, id), the structure it replaced, through random pushes,
// pops and removals.
TEST(DelayedQueue, MatchesAnOrderedMapUnderRandomOperations) {
  std::mt19937_64 rng(17);
  Q queues[3];
  for (int run = 0; run < testutil::RunBudget(200); ++run) {
    Queue q;
    std::multimap<Key, Q*> model;
    uint64_t next_id = 1;
    for (int step = 0; step < 300; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op < 6) {
        const int64_t due = static_cast<int64_t>(rng() % 50);
        Q* queue = &queues[rng() % 3];
        q.Push(due, queue, Id(next_id));
        model.emplace(Key{due, next_id}, queue);
        ++next_id;
      } else if (op < 9) {
        ASSERT_EQ(q.empty(), model.empty());
        if (model.empty()) continue;
        ASSERT_EQ(q.next_due_us(), std::get<0>(model.begin()->first));
        auto e = q.Pop();
        EXPECT_EQ((Key{e.due_us, e.id.value()}), model.begin()->first);
        EXPECT_EQ(e.queue, model.begin()->second);
        model.erase(model.begin());
      } else {
        Q* which = &queues[rng() % 3];
        auto removed = q.RemoveIf([which](const Queue::Entry& e) { return e.queue == which; });
        std::vector<Key> expect;
        for (auto it = model.begin(); it != model.end();) {
          if (it->second == which) {
            expect.push_back(it->first);
            it = model.erase(it);
          } else {
            ++it;
          }
        }
        std::vector<Key> got;
        for (const auto& e : removed) got.emplace_back(e.due_us, e.id.value());
        EXPECT_EQ(got, expect);
      }
      ASSERT_EQ(q.size(), model.size());
    }
  }
}

}  // namespace
}  // namespace ec::outbound
