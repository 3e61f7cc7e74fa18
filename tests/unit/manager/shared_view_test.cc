// SharedView: the nodes' shared-limits reports as eccmgr shows them in /metrics.
#include "manager/shared_view.h"

#include <gtest/gtest.h>

#include "common/config/loader.h"
#include "replication/shared_message.h"

namespace ec::manager {
namespace {

std::string Report(std::string leader, bool full, std::vector<replication::ObjectFigures> objects) {
  replication::ReportMessage r;
  r.sent_ms = 1;
  r.leader = std::move(leader);
  r.full = full;
  r.objects = std::move(objects);
  return replication::EncodeMessage(r);
}

replication::ObjectFigures Figures(std::string key, uint64_t limit, uint64_t usage, uint64_t held) {
  return {.key = std::move(key), .limit = limit, .usage = usage, .demand = usage, .held = held};
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(SharedView, ReportsBecomeMetricsPerObjectAndNode) {
  SharedView view;
  ASSERT_TRUE(view.OnMessage("n1", Report("n1", true,
                                          {Figures("outbound_domains/example.com", 20, 3, 10),
                                           Figures("obtm/example.org", 100, 40, 50)}))
                  .ok());
  ASSERT_TRUE(
      view.OnMessage("n2", Report("n1", true, {Figures("outbound_domains/example.com", 25, 7, 10)}))
          .ok());
  const std::string m = view.Prometheus();
  EXPECT_TRUE(Has(m, "# TYPE ec_cluster_shared_usage gauge\n")) << m;
  EXPECT_TRUE(Has(m,
                  "ec_cluster_shared_usage{object=\"outbound_domains/example.com\","
                  "node=\"n1\"} 3\n"))
      << m;
  EXPECT_TRUE(Has(m,
                  "ec_cluster_shared_usage{object=\"outbound_domains/example.com\","
                  "node=\"n2\"} 7\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_usage{object=\"obtm/example.org\",node=\"n1\"} 40\n"));
  EXPECT_FALSE(Has(m, "ec_cluster_shared_usage{object=\"obtm/example.org\",node=\"n2\"}"));
  EXPECT_TRUE(Has(m,
                  "ec_cluster_shared_grant{object=\"outbound_domains/example.com\","
                  "node=\"n2\"} 10\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_grant{object=\"obtm/example.org\",node=\"n1\"} 50\n"));
  // The limit as reported, the largest when the nodes' configs differ (mid-reload).
  EXPECT_TRUE(Has(m, "ec_cluster_shared_limit{object=\"outbound_domains/example.com\"} 25\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_limit{object=\"obtm/example.org\"} 100\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_total{object=\"outbound_domains/example.com\"} 10\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_total{object=\"obtm/example.org\"} 40\n"));
  EXPECT_TRUE(Has(m, "ec_cluster_shared_messages_rejected_total 0\n"));

  // A partial report updates what it lists; a full one replaces the node's figures.
  ASSERT_TRUE(
      view.OnMessage("n2", Report("n1", false, {Figures("outbound_domains/example.com", 25, 9, 9)}))
          .ok());
  EXPECT_TRUE(Has(view.Prometheus(),
                  "ec_cluster_shared_total{object=\"outbound_domains/example.com\"} 12\n"));
  ASSERT_TRUE(view.OnMessage("n1", Report("n1", true, {})).ok());
  const std::string after = view.Prometheus();
  EXPECT_FALSE(Has(after, "obtm/example.org")) << after;
  EXPECT_TRUE(Has(after, "ec_cluster_shared_total{object=\"outbound_domains/example.com\"} 9\n"));
  EXPECT_TRUE(Has(after, "ec_cluster_shared_limit{object=\"outbound_domains/example.com\"} 25\n"));
}

TEST(SharedView, ForgottenNodesStopCounting) {
  SharedView view;
  ASSERT_TRUE(
      view.OnMessage("n1", Report("n1", true, {Figures("outbound_cidr/b1", 10, 4, 5)})).ok());
  ASSERT_TRUE(
      view.OnMessage("n2", Report("n1", true, {Figures("outbound_cidr/b1", 30, 5, 5)})).ok());
  EXPECT_TRUE(Has(view.Prometheus(), "ec_cluster_shared_total{object=\"outbound_cidr/b1\"} 9\n"));
  view.Forget("n2");
  const std::string m = view.Prometheus();
  EXPECT_TRUE(Has(m, "ec_cluster_shared_total{object=\"outbound_cidr/b1\"} 4\n")) << m;
  EXPECT_TRUE(Has(m, "ec_cluster_shared_limit{object=\"outbound_cidr/b1\"} 10\n")) << m;
  EXPECT_FALSE(Has(m, "node=\"n2\"")) << m;
  view.Forget("n1");
  EXPECT_FALSE(Has(view.Prometheus(), "outbound_cidr/b1"));
}

TEST(SharedView, OtherTrafficGrantsAndGarbage) {
  SharedView view;
  // DuraVIP shares the group: not ours, not an error.
  EXPECT_EQ(view.OnMessage("n1", "duravip-report 1\nnode n1\ntakeovers 0\n").code(),
            StatusCode::kNotFound);
  // Grants are accepted and not shown.
  replication::GrantMessage g;
  g.grants = {{.key = "obtc/example.com", .node = "n2", .units = 3, .seq = 1}};
  EXPECT_TRUE(view.OnMessage("n1", replication::EncodeMessage(g)).ok());
  EXPECT_FALSE(Has(view.Prometheus(), "obtc/example.com"));
  // Malformed ones are refused and counted.
  EXPECT_EQ(view.OnMessage("n1", "shared-report 1\nsent x\n").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(view.OnMessage("n1", "shared-grants 1\n").code(), StatusCode::kInvalidArgument);
  const std::string m = view.Prometheus();
  EXPECT_TRUE(Has(m, "# TYPE ec_cluster_shared_messages_rejected_total counter\n")) << m;
  EXPECT_TRUE(Has(m, "ec_cluster_shared_messages_rejected_total 2\n")) << m;
  EXPECT_TRUE(view.table().Nodes().empty());
}

TEST(SharedView, LabelValuesAreEscaped) {
  SharedView view;
  ASSERT_TRUE(view.OnMessage("n\"1", Report("", true, {Figures("obtm/a\"b\\c", 1, 1, 1)})).ok());
  EXPECT_TRUE(Has(view.Prometheus(),
                  "ec_cluster_shared_usage{object=\"obtm/a\\\"b\\\\c\",node=\"n\\\"1\"} 1\n"))
      << view.Prometheus();
}

TEST(SharedView, ClusterGroupFromTheClusterScope) {
  config::LoadOptions load;
  load.allow_includes = false;
  config::Diagnostics diags;
  auto plain = config::ParseConfigString("cluster { control_group = \"ctl\" }\n",
                                         "/etc/conf/global/eccluster.conf", load, &diags);
  ASSERT_TRUE(plain);
  EXPECT_EQ(ClusterGroupOf(*plain), "ec_cluster");
  auto named = config::ParseConfigString("cluster { cluster_group = \"limits\" }\n",
                                         "/etc/conf/global/eccluster.conf", load, &diags);
  ASSERT_TRUE(named);
  EXPECT_FALSE(config::HasErrors(diags));
  EXPECT_EQ(ClusterGroupOf(*named), "limits");
}

}  // namespace
}  // namespace ec::manager
