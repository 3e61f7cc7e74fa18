// SharedTable: merging reports, snapshots, forgetting nodes, and what the allocator and the
// console read out of it.
#include "replication/shared_table.h"

#include <gtest/gtest.h>

#include <limits>

namespace ec::replication {
namespace {

ObjectFigures Figures(std::string key, uint64_t usage, uint64_t held = 0, uint64_t demand = 0) {
  return {.key = std::move(key),
          .limit = 10,
          .usage = usage,
          .demand = demand,
          .held = held,
          .acked_seq = 1};
}

ReportMessage Report(std::string leader, bool full, std::vector<ObjectFigures> objects) {
  return {.sent_ms = 1, .leader = std::move(leader), .full = full, .objects = std::move(objects)};
}

TEST(SharedTable, PartialReportsMergeAndFullOnesReplace) {
  SharedTable t;
  t.Apply("n1", Report("n1", true, {Figures("obtm/a", 1), Figures("obtm/b", 2)}));
  t.Apply("n1", Report("n1", false, {Figures("obtm/b", 5), Figures("obtm/c", 6)}));
  ASSERT_NE(t.Find("n1", "obtm/a"), nullptr);
  EXPECT_EQ(t.Find("n1", "obtm/a")->usage, 1u);
  EXPECT_EQ(t.Find("n1", "obtm/b")->usage, 5u);
  EXPECT_EQ(t.Find("n1", "obtm/c")->usage, 6u);
  // A snapshot: what it no longer lists is gone.
  t.Apply("n1", Report("n1", true, {Figures("obtm/c", 7)}));
  EXPECT_EQ(t.Find("n1", "obtm/a"), nullptr);
  EXPECT_EQ(t.Find("n1", "obtm/b"), nullptr);
  EXPECT_EQ(t.Find("n1", "obtm/c")->usage, 7u);
  t.Apply("n1", Report("n1", true, {}));
  EXPECT_EQ(t.Find("n1", "obtm/c"), nullptr);
  EXPECT_EQ(t.Nodes(), std::vector<std::string>{"n1"});  // known, with nothing
  EXPECT_TRUE(t.Keys().empty());
}

TEST(SharedTable, SharesAreSortedAndCarryTheLeader) {
  SharedTable t;
  t.Apply("n3", Report("n1", true, {Figures("k/x", 3, 4, 5)}));
  t.Apply("n1", Report("n1", true, {Figures("k/x", 1, 2, 3), Figures("k/y", 9)}));
  t.Apply("n2", Report("", true, {Figures("k/y", 2)}));
  const std::vector<NodeShare> want = {
      {.node = "n1", .leader = "n1", .usage = 1, .demand = 3, .held = 2, .acked_seq = 1},
      {.node = "n3", .leader = "n1", .usage = 3, .demand = 5, .held = 4, .acked_seq = 1}};
  EXPECT_EQ(t.Shares("k/x"), want);
  EXPECT_TRUE(t.Shares("k/none").empty());
  EXPECT_EQ(t.LeaderOf("n3"), "n1");
  EXPECT_EQ(t.LeaderOf("n2"), "");
  EXPECT_EQ(t.LeaderOf("unknown"), "");
  // The leader is the latest report's, partial ones included.
  t.Apply("n3", Report("n2", false, {}));
  EXPECT_EQ(t.LeaderOf("n3"), "n2");
  EXPECT_EQ(t.Find("n3", "k/x")->usage, 3u);
}

TEST(SharedTable, ForgetDropsTheNodesShare) {
  SharedTable t;
  t.Apply("n1", Report("n1", true, {Figures("k/x", 1)}));
  t.Apply("n2", Report("n1", true, {Figures("k/x", 2), Figures("j/only2", 1)}));
  EXPECT_EQ(t.TotalUsage("k/x"), 3u);
  t.Forget("n2");
  EXPECT_EQ(t.TotalUsage("k/x"), 1u);
  EXPECT_EQ(t.Find("n2", "k/x"), nullptr);
  EXPECT_EQ(t.Nodes(), std::vector<std::string>{"n1"});
  EXPECT_EQ(t.Keys(), std::vector<std::string>{"k/x"});
  t.Forget("never-seen");
  EXPECT_EQ(t.Nodes().size(), 1u);
}

TEST(SharedTable, KeysFilterByType) {
  SharedTable t;
  t.Apply("n1", Report("n1", true,
                       {Figures("outbound_domains/b.example", 1),
                        Figures("outbound_domains/host/192.0.2.7", 1), Figures("obtm/a", 1)}));
  t.Apply("n2", Report("n1", true,
                       {Figures("outbound_domains/a.example", 1),
                        Figures("outbound_domains/b.example", 1), Figures("plain", 1)}));
  EXPECT_EQ(t.Keys(), (std::vector<std::string>{"obtm/a", "outbound_domains/a.example",
                                                "outbound_domains/b.example",
                                                "outbound_domains/host/192.0.2.7", "plain"}));
  EXPECT_EQ(t.Keys("outbound_domains"),
            (std::vector<std::string>{"outbound_domains/a.example", "outbound_domains/b.example",
                                      "outbound_domains/host/192.0.2.7"}));
  EXPECT_EQ(t.Keys("obtm"), std::vector<std::string>{"obtm/a"});
  EXPECT_TRUE(t.Keys("obtc").empty());
  EXPECT_TRUE(t.Keys("outbound").empty());  // a type is the whole first part
}

TEST(SharedTable, TotalUsageSumsNodesAndSaturates) {
  SharedTable t;
  EXPECT_EQ(t.TotalUsage("k/x"), 0u);
  t.Apply("n1", Report("n1", true, {Figures("k/x", 4), Figures("k/y", 100)}));
  t.Apply("n2", Report("n1", true, {Figures("k/x", 5)}));
  EXPECT_EQ(t.TotalUsage("k/x"), 9u);
  EXPECT_EQ(t.TotalUsage("k/y"), 100u);
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  t.Apply("n3", Report("n1", true, {Figures("k/x", kMax)}));
  EXPECT_EQ(t.TotalUsage("k/x"), kMax);
}

}  // namespace
}  // namespace ec::replication
