#include "manager/health_view.h"

#include <gtest/gtest.h>

#include "common/event/event_base.h"
#include "msgc/bus_report.h"
#include "tests/unit/msgc/bus_test_util.h"

namespace ec::manager {
namespace {

using std::chrono::milliseconds;

TEST(HealthView, JsonAndMetricsReflectRecordsAndBusState) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  const uint16_t port = msgc::testing::FreePortOnLoopbacks(3);
  msgc::testing::LogCollector log0, log1;
  // n0 is the manager, n1 runs, n2 is configured but never starts.
  auto m = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(3, 0, port, log0.Fn()));
  auto n1 = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(3, 1, port, log1.Fn()));
  ASSERT_TRUE(m.ok() && n1.ok());
  ASSERT_TRUE((*base)->RunUntil([&] { return (*m)->IsAlive("n1"); }, milliseconds(5000)));

  HealthView view(milliseconds(1000));
  msgc::HealthRecord r;
  r.member = "n1";
  r.received = 42;
  r.queue_size = 3;
  r.peers_connected = 1;
  EXPECT_FALSE(view.Update("n2", r).ok());  // n2 may not speak for n1
  const auto now = msgc::Clock::now();
  ASSERT_TRUE(view.Update("n1", r, now).ok());
  EXPECT_EQ(view.size(), 1u);

  const std::string json = view.Json(**m, msgc::BusHealth(**m, "manager"), now);
  EXPECT_NE(json.find("\"manager\":\"n0\""), std::string::npos) << json;
  EXPECT_NE(json.find("{\"member\":\"n1\",\"address\":\"127.0.0.3\",\"bus_state\":\"ALIVE\","
                      "\"healthy\":true"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"member\":\"n2\",\"address\":\"127.0.0.4\",\"bus_state\":\"CONNECTING\","
                      "\"healthy\":false,\"report_age_ms\":null,\"report\":null"),
            std::string::npos)
      << json;

  const std::string metrics = view.Prometheus(**m, now);
  EXPECT_NE(metrics.find("ec_node_up{node=\"n1\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ec_node_up{node=\"n2\"} 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ec_node_messages_received_total{node=\"n1\"} 42\n"), std::string::npos);
  EXPECT_NE(metrics.find("ec_node_queue_size{node=\"n1\"} 3\n"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE ec_node_messages_received_total counter\n"), std::string::npos);
  EXPECT_NE(metrics.find("ec_cluster_members 3\n"), std::string::npos);

  // A stale record (older than 3 intervals) is no longer healthy.
  EXPECT_NE(view.Prometheus(**m, now + milliseconds(3500)).find("ec_node_up{node=\"n1\"} 0\n"),
            std::string::npos);
  EXPECT_NE(view.Text(**m, now).find("n1"), std::string::npos);
  n1->reset();
  m->reset();
}

}  // namespace
}  // namespace ec::manager
