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
  EXPECT_NE(json.find(",\"duravip\":{},\"duravip_conflicts\":0}\n"), std::string::npos) << json;
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

msgc::HealthRecord Claims(const std::string& member, std::vector<std::string> duravips,
                          uint64_t takeovers) {
  msgc::HealthRecord r;
  r.member = member;
  r.role = "mta";
  r.incarnation = 1;
  r.duravips = std::move(duravips);
  r.duravip_takeovers = takeovers;
  return r;
}

const msgc::Clock::time_point kT0 = msgc::Clock::now();

// The line of `text` that starts with `prefix`, without its newline.
std::string Line(const std::string& text, const std::string& prefix) {
  size_t at = text.rfind("\n" + prefix);
  if (at == std::string::npos) return "";
  ++at;
  return text.substr(at, text.find('\n', at) - at);
}

TEST(DuravipTable, OwnedConflictAndUnheld) {
  const auto n1 = Claims("n1", {"198.18.0.100", "198.18.0.101"}, 3);
  const auto n2 = Claims("n2", {"198.18.0.101"}, 1);
  const auto n3 = Claims("n3", {"198.18.0.102"}, 7);  // dead: its claim must not count
  const DuravipTable t = BuildDuravipTable({{&n3, false, kT0}, {&n1, true, kT0}, {&n2, true, kT0}});

  ASSERT_EQ(t.addresses.size(), 3u);
  EXPECT_EQ(t.addresses[0].address, "198.18.0.100");
  EXPECT_EQ(t.addresses[0].holders, std::vector<std::string>{"n1"});
  EXPECT_EQ(t.addresses[0].state, DuravipState::kOwned);
  EXPECT_EQ(t.addresses[1].address, "198.18.0.101");
  EXPECT_EQ(t.addresses[1].holders, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_TRUE(t.addresses[1].conflict());
  EXPECT_EQ(t.addresses[2].address, "198.18.0.102");
  EXPECT_TRUE(t.addresses[2].holders.empty());
  EXPECT_EQ(t.addresses[2].not_counted, std::vector<std::string>{"n3"});
  EXPECT_EQ(t.addresses[2].state, DuravipState::kUnheld);
  EXPECT_EQ(t.conflicts(), 1u);
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_EQ(t.nodes[2].member, "n3");
  EXPECT_FALSE(t.nodes[2].counted);
  EXPECT_EQ(t.nodes[2].takeovers, 7u);

  EXPECT_EQ(FormatDuravipTable(t),
            "!! CONFLICT: 1 address(es) held by two or more live members at once (split brain)\n"
            "DuraVIP: 3 addresses, 1 owned, 1 CONFLICT, 0 handover, 1 unheld; 3 members "
            "reporting\n"
            "\n"
            "ADDRESS       STATE     HOLDERS  NOT COUNTED (not alive or record stale)\n"
            "198.18.0.100  owned     n1       -\n"
            "198.18.0.101  CONFLICT  n1,n2    -\n"
            "198.18.0.102  unheld    -        n3\n"
            "\n"
            "NODE  COUNTED  HELD  TAKEOVERS\n"
            "n1    yes      2     3\n"
            "n2    yes      1     1\n"
            "n3    no       1     7\n");
}

TEST(DuravipTable, DeadMembersClaimIsNoConflict) {
  // n2 died holding the address and n1 took it over: one owner, no alarm.
  const auto n1 = Claims("n1", {"198.18.0.100"}, 1);
  const auto n2 = Claims("n2", {"198.18.0.100"}, 0);
  const DuravipTable t = BuildDuravipTable({{&n1, true, kT0}, {&n2, false, kT0}});
  ASSERT_EQ(t.addresses.size(), 1u);
  EXPECT_EQ(t.addresses[0].holders, std::vector<std::string>{"n1"});
  EXPECT_EQ(t.addresses[0].not_counted, std::vector<std::string>{"n2"});
  EXPECT_EQ(t.addresses[0].state, DuravipState::kOwned);
  EXPECT_EQ(t.conflicts(), 0u);
  const std::string text = FormatDuravipTable(t);
  EXPECT_EQ(text.find("CONFLICT:"), std::string::npos) << text;
  EXPECT_NE(text.find("198.18.0.100  owned  n1       n2\n"), std::string::npos) << text;
}

TEST(DuravipTable, OldHoldersLastRecordBeforeTheNewClaimIsAHandover) {
  const auto n1 = Claims("n1", {"198.18.0.100"}, 0);
  const auto n2 = Claims("n2", {"198.18.0.100"}, 1);
  // n1 has listed it since T0, last at T0+5s; n2 first listed it at T0+6s.
  const ClaimedSince n1_since = {{"198.18.0.100", kT0}};
  const auto t5 = kT0 + milliseconds(5000), t6 = kT0 + milliseconds(6000);
  DuravipTable t = BuildDuravipTable({{&n1, true, t5, &n1_since}, {&n2, true, t6}});
  ASSERT_EQ(t.addresses.size(), 1u);
  EXPECT_EQ(t.addresses[0].state, DuravipState::kHandover);
  EXPECT_EQ(t.conflicts(), 0u);
  EXPECT_NE(FormatDuravipTable(t).find("198.18.0.100  handover  n1,n2"), std::string::npos);

  // n1's next record still lists it: both claimed it at once.
  const auto t7 = kT0 + milliseconds(7000);
  t = BuildDuravipTable({{&n1, true, t7, &n1_since}, {&n2, true, t6}});
  EXPECT_EQ(t.addresses[0].state, DuravipState::kConflict);
  EXPECT_EQ(t.conflicts(), 1u);
}

TEST(DuravipTable, AnAddressListedTwiceByOneMemberIsOneHolder) {
  const auto n1 = Claims("n1", {"198.18.0.100", "198.18.0.100"}, 1);
  const DuravipTable t = BuildDuravipTable({{&n1, true, kT0}});
  ASSERT_EQ(t.addresses.size(), 1u);
  EXPECT_EQ(t.addresses[0].holders, std::vector<std::string>{"n1"});
  EXPECT_EQ(t.addresses[0].state, DuravipState::kOwned);
  EXPECT_EQ(t.nodes[0].held, 1u);
}

TEST(DuravipTable, EmptyCluster) {
  EXPECT_EQ(FormatDuravipTable(BuildDuravipTable({})),
            "DuraVIP: 0 addresses, 0 owned, 0 CONFLICT, 0 handover, 0 unheld; 0 members "
            "reporting\n");
}

// Through the bus: only members the bus sees ALIVE with a recent record count.
TEST(HealthView, DuravipTableJsonAndMetrics) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  const uint16_t port = msgc::testing::FreePortOnLoopbacks(4);
  msgc::testing::LogCollector log0, log1, log2;
  // n0 is the manager, n1 and n2 run, n3 is configured but never starts.
  auto m = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(4, 0, port, log0.Fn()));
  auto n1 = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(4, 1, port, log1.Fn()));
  auto n2 = msgc::Bus::Create((*base)->get(), msgc::testing::TestOptions(4, 2, port, log2.Fn()));
  ASSERT_TRUE(m.ok() && n1.ok() && n2.ok());
  ASSERT_TRUE((*base)->RunUntil([&] { return (*m)->IsAlive("n1") && (*m)->IsAlive("n2"); },
                                milliseconds(5000)));

  HealthView view(milliseconds(1000));
  const auto now = msgc::Clock::now();
  ASSERT_TRUE(view.Update("n1", Claims("n1", {"198.18.0.100", "198.18.0.101"}, 2), now).ok());
  ASSERT_TRUE(view.Update("n2", Claims("n2", {"198.18.0.101"}, 1), now).ok());
  // n3's last record before it died; its address has an awkward label value on purpose.
  ASSERT_TRUE(view.Update("n3", Claims("n3", {"198.18.0.100", "x\"y\\"}, 4), now).ok());

  std::string text = FormatDuravipTable(view.Duravip(**m, now));
  EXPECT_EQ(text.rfind("!! CONFLICT: 1 address(es)", 0), 0u) << text;
  EXPECT_NE(text.find("198.18.0.100  owned     n1       n3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("198.18.0.101  CONFLICT  n1,n2    -\n"), std::string::npos) << text;
  EXPECT_NE(text.find("n3    no       2     4\n"), std::string::npos) << text;

  const std::string json = view.Json(**m, msgc::BusHealth(**m, "manager"), now);
  EXPECT_NE(json.find(",\"duravip\":{\"198.18.0.100\":[\"n1\"],\"198.18.0.101\":[\"n1\",\"n2\"],"
                      "\"x\\\"y\\\\\":[]},\"duravip_conflicts\":1}\n"),
            std::string::npos)
      << json;
  // Each member's own record carries its addresses and takeovers.
  EXPECT_NE(json.find("\"duravips\":[\"198.18.0.100\",\"198.18.0.101\"],\"duravip_takeovers\":2"),
            std::string::npos)
      << json;

  const std::string metrics = view.Prometheus(**m, now);
  for (const char* line : {
           "# TYPE ec_duravip_owner gauge\n",
           "ec_duravip_owner{address=\"198.18.0.100\",node=\"n1\"} 1\n",
           "ec_duravip_owner{address=\"198.18.0.101\",node=\"n1\"} 1\n",
           "ec_duravip_owner{address=\"198.18.0.101\",node=\"n2\"} 1\n",
           "# TYPE ec_duravip_holders gauge\n",
           "ec_duravip_holders{address=\"198.18.0.100\"} 1\n",
           "ec_duravip_holders{address=\"198.18.0.101\"} 2\n",
           "ec_duravip_holders{address=\"x\\\"y\\\\\"} 0\n",
           "# TYPE ec_duravip_conflict gauge\n",
           "ec_duravip_conflict{address=\"198.18.0.100\"} 0\n",
           "ec_duravip_conflict{address=\"198.18.0.101\"} 1\n",
           "# TYPE ec_node_duravip_takeovers_total counter\n",
           "ec_node_duravip_takeovers_total{node=\"n1\"} 2\n",
           "ec_node_duravip_takeovers_total{node=\"n3\"} 4\n",
       }) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line << "\n" << metrics;
  }
  EXPECT_EQ(metrics.find("node=\"n3\"} 1\n"), std::string::npos) << metrics;  // n3 owns nothing

  // Stale records count no more: nobody holds anything, so no conflict either.
  const auto later = now + milliseconds(3500);
  EXPECT_EQ(view.Duravip(**m, later).conflicts(), 0u);
  EXPECT_NE(view.Prometheus(**m, later).find("ec_duravip_holders{address=\"198.18.0.101\"} 0\n"),
            std::string::npos);
  EXPECT_EQ(view.Prometheus(**m, later).find("ec_duravip_owner{"), std::string::npos);

  // A move, as the records show it: n2 takes .100 from n1, whose last record still lists it.
  const auto t1 = now + milliseconds(1000), t2 = now + milliseconds(2000),
             t3 = now + milliseconds(3000);
  ASSERT_TRUE(view.Update("n2", Claims("n2", {"198.18.0.100"}, 2), t1).ok());
  text = FormatDuravipTable(view.Duravip(**m, t1));
  EXPECT_EQ(Line(text, "198.18.0.100 "), "198.18.0.100  handover  n1,n2    n3") << text;
  EXPECT_EQ(text.find("CONFLICT:"), std::string::npos) << text;  // n2 dropped .101 too
  // n1's next record still lists it: both held it at once.
  ASSERT_TRUE(view.Update("n1", Claims("n1", {"198.18.0.100", "198.18.0.101"}, 2), t2).ok());
  text = FormatDuravipTable(view.Duravip(**m, t2));
  EXPECT_EQ(Line(text, "198.18.0.100 "), "198.18.0.100  CONFLICT  n1,n2    n3") << text;
  // And once n1 lets it go, n2 owns it.
  ASSERT_TRUE(view.Update("n1", Claims("n1", {"198.18.0.101"}, 2), t3).ok());
  text = FormatDuravipTable(view.Duravip(**m, t3));
  EXPECT_EQ(Line(text, "198.18.0.100 "), "198.18.0.100  owned   n2       n3") << text;
  EXPECT_EQ(view.Duravip(**m, t3).conflicts(), 0u);
  n2->reset();
  n1->reset();
  m->reset();
}

}  // namespace
}  // namespace ec::manager
