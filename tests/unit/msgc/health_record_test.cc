#include "msgc/health_record.h"

#include <gtest/gtest.h>

namespace ec::msgc {
namespace {

HealthRecord Sample() {
  HealthRecord r;
  r.member = "node1";
  r.role = "mta";
  r.endpoint = "127.0.0.2:4809";
  r.incarnation = 1234567890123ULL;
  r.state = "STABLE";
  r.view_id = 7;
  r.view_stable_ms = 5001;
  r.members_known = 5;
  r.members_alive = 4;
  r.peers_connected = 3;
  r.unhealthy = {"node3"};
  r.received = 10;
  r.delivered = 8;
  r.failed = 1;
  r.queue_size = 2;
  r.time = 1790000000;
  return r;
}

TEST(HealthRecord, RoundTrips) {
  const HealthRecord r = Sample();
  const std::string json = HealthRecordToJson(r);
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(json.find("\"member\":\"node1\""), std::string::npos);
  EXPECT_NE(json.find("\"unhealthy\":[\"node3\"]"), std::string::npos);
  auto back = ParseHealthRecord(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(HealthRecord, ConfigRevisionRoundTripsAndIsLeftOutWhenEmpty) {
  HealthRecord r = Sample();
  EXPECT_EQ(HealthRecordToJson(r).find("config_revision"), std::string::npos);
  r.config_revision = "0123456789ab";
  const std::string json = HealthRecordToJson(r);
  EXPECT_NE(json.find(",\"config_revision\":\"0123456789ab\","), std::string::npos) << json;
  auto back = ParseHealthRecord(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
  // A record of an older member (no such key) decodes with an empty revision.
  auto old = ParseHealthRecord("{\"member\":\"n\",\"received\":3}");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->config_revision, "");
  EXPECT_FALSE(ParseHealthRecord("{\"member\":\"n\",\"config_revision\":12}").ok());
}

TEST(HealthRecord, EscapesStrings) {
  HealthRecord r = Sample();
  r.state = "a\"b\\c\n\x01";
  const std::string json = HealthRecordToJson(r);
  EXPECT_NE(json.find("a\\\"b\\\\c\\u000a\\u0001"), std::string::npos) << json;
  auto back = ParseHealthRecord(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->state, r.state);
}

TEST(HealthRecord, SkipsUnknownKeysAndAcceptsSpaces) {
  auto r = ParseHealthRecord(
      " { \"member\" : \"n\", \"future\" : [\"x\"], \"flag\": true, \"n\": 5, \"s\": \"t\","
      " \"received\": 3 } ");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->member, "n");
  EXPECT_EQ(r->received, 3u);
}

TEST(HealthRecord, RefusesMalformed) {
  for (const char* bad : {
           "",
           "{",
           "[]",
           "{\"member\":\"n\"",
           "{\"member\":\"n\"} x",
           "{\"member\":1}",
           "{\"member\":\"n\",\"received\":-1}",
           "{\"member\":\"n\",\"received\":1.5}",
           "{\"member\":\"n\",\"received\":01}",
           "{\"member\":\"n\",\"member\":\"m\"}",
           "{\"member\":\"n\",\"received\":18446744073709551616}",
           "{\"member\":\"n\",\"unhealthy\":[1]}",
           "{\"member\":\"n\",}",
           "{\"received\":1}",
           "{\"member\":\"a\\qb\"}",
           "{\"member\":\"\x01\"}",
           "{\"member\":\"n\",\"x\":{}}",
       }) {
    EXPECT_FALSE(ParseHealthRecord(bad).ok()) << bad;
  }
}

TEST(HealthRecord, RefusesOversized) {
  std::string json = "{\"member\":\"n\",\"x\":\"" + std::string(kMaxHealthRecordSize, 'a') + "\"}";
  auto r = ParseHealthRecord(json);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("over the limit"), std::string::npos);
}

TEST(HealthRecord, MaxUint64) {
  auto r = ParseHealthRecord("{\"member\":\"n\",\"received\":18446744073709551615}");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->received, 18446744073709551615ULL);
}

}  // namespace
}  // namespace ec::msgc
