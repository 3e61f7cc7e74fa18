// The shared-limits wire messages: round trips, other users' traffic, and what a peer must not
// be able to send.
#include "replication/shared_message.h"

#include <gtest/gtest.h>

namespace ec::replication {
namespace {

ReportMessage SampleReport() {
  ReportMessage r;
  r.sent_ms = 1764921600123;
  r.leader = "node1";
  r.full = true;
  r.objects = {{.key = "outbound_domains/example.com",
                .limit = 20,
                .usage = 3,
                .demand = 9,
                .held = 7,
                .acked_seq = 12},
               {.key = "obtm/example.org",
                .limit = 100,
                .window_ms = 60000,
                .usage = 99,
                .demand = 100,
                .held = 100,
                .acked_seq = 18446744073709551615ull}};
  return r;
}

TEST(SharedMessage, ReportRoundTrips) {
  const ReportMessage r = SampleReport();
  const std::string text = EncodeMessage(r);
  EXPECT_EQ(text,
            "shared-report 1\nsent 1764921600123\nleader node1\nfull 1\n"
            "object outbound_domains/example.com 20 0 3 9 7 12\n"
            "object obtm/example.org 100 60000 99 100 100 18446744073709551615\n");
  auto back = DecodeMessage(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto* got = std::get_if<ReportMessage>(&*back);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, r);
}

TEST(SharedMessage, ReportWithoutLeaderOrObjectsRoundTrips) {
  ReportMessage r;
  r.sent_ms = 5;
  const std::string text = EncodeMessage(r);
  EXPECT_EQ(text, "shared-report 1\nsent 5\nleader\nfull 0\n");
  auto back = DecodeMessage(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(std::get<ReportMessage>(*back), r);
}

TEST(SharedMessage, GrantsRoundTrip) {
  GrantMessage g;
  g.sent_ms = 42;
  g.grants = {{.key = "outbound_cidr/b1", .node = "node2", .units = 0, .seq = 1},
              {.key = "outbound_cidr/b1", .node = "node3", .units = 17, .seq = 9},
              {.key = "outbound_domains/host/192.0.2.7", .node = "node2", .units = 3, .seq = 2}};
  const std::string text = EncodeMessage(g);
  EXPECT_EQ(text,
            "shared-grants 1\nsent 42\ngrant outbound_cidr/b1 node2 0 1\n"
            "grant outbound_cidr/b1 node3 17 9\ngrant outbound_domains/host/192.0.2.7 node2 3 2\n");
  auto back = DecodeMessage(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(std::get<GrantMessage>(*back), g);
  auto empty = DecodeMessage(EncodeMessage(GrantMessage{}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(std::get<GrantMessage>(*empty), GrantMessage{});
}

TEST(SharedMessage, OtherGroupTrafficIsNotFound) {
  for (const char* text : {"", "duravip-report 1\nnode a\n", "duravip-announce 1\n", "shared",
                           "share-report 1\n", " shared-report 1\n", "SHARED-report 1\n"}) {
    EXPECT_EQ(DecodeMessage(text).status().code(), StatusCode::kNotFound) << text;
  }
}

TEST(SharedMessage, MalformedIsRefused) {
  const std::string head = "shared-report 1\nsent 1\nleader a\nfull 0\n";
  const std::string grants = "shared-grants 1\nsent 1\n";
  const std::string bad[] = {
      "shared-",                                      // no newline
      "shared-report 1",                              // no newline
      "shared-report 2\nsent 1\nleader a\nfull 0\n",  // unknown version
      "shared-other 1\n",                             // unknown type
      "shared-report 1\nleader a\nfull 0\n",          // no sent
      "shared-report 1\nsent 1\nfull 0\n",            // no leader line
      "shared-report 1\nsent 1\nleader a\n",          // no full
      head + "sent 2\n",                              // twice
      head + "leader b\n",
      head + "full 1\n",
      "shared-report 1\nsent 1\nleader a\nfull 2\n",    // not a flag
      "shared-report 1\nsent 1\nleader a b\nfull 0\n",  // two leaders
      "shared-report 1\nsent -1\nleader a\nfull 0\n",   // negative
      "shared-report 1\nsent +1\nleader a\nfull 0\n",   // sign
      "shared-report 1\nsent 01\nleader a\nfull 0\n",   // leading zero
      "shared-report 1\nsent 1x\nleader a\nfull 0\n",
      "shared-report 1\nsent 18446744073709551616\nleader a\nfull 0\n",  // 2^64
      "shared-report 1\nsent 99999999999999999999999\nleader a\nfull 0\n",
      "shared-report 1\nsent  1\nleader a\nfull 0\n",         // two spaces
      "shared-report 1\nsent 1 \nleader a\nfull 0\n",         // trailing space
      "shared-report 1\nsent 1\r\nleader a\nfull 0\n",        // CRLF
      "shared-report 1\nsent 1\nleader a\x01\nfull 0\n",      // control byte in a name
      "shared-report 1\nsent 1\nleader \xc3\xa9\nfull 0\n",   // not ASCII
      head + "\n",                                            // empty line
      head + "object k 1 0 0 0 0\n",                          // short
      head + "object k 1 0 0 0 0 0 0\n",                      // long
      head + "object k 1 0 0 x 0 0\n",                        // not a number
      head + "object k 1 0 0 0 0 0\nobject k 2 0 0 0 0 0\n",  // one key twice
      head + "object " + std::string(kMaxKeySize + 1, 'k') + " 1 0 0 0 0 0\n",
      head + "grant k a 1 1\n",  // a grant in a report
      head + "frobnicate\n",
      grants + "grant k a 1\n",                   // short
      grants + "grant k a 1 1 1\n",               // long
      grants + "grant k a 1 1\ngrant k a 2 2\n",  // one (key, node) twice
      grants + "grant k a\tb 1 1\n",              // tab in a name
      "shared-grants 1\ngrant k a 1 1\n",         // no sent
      grants + "sent 2\n",
      grants + "object k 1 0 0 0 0 0\n",
  };
  for (const std::string& text : bad) {
    auto r = DecodeMessage(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(SharedMessage, LongestKeyIsAccepted) {
  const std::string key(kMaxKeySize, 'k');
  GrantMessage g{.grants = {{.key = key, .node = std::string(kMaxKeySize, 'n'), .units = 1}}};
  auto back = DecodeMessage(EncodeMessage(g));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(std::get<GrantMessage>(*back), g);
}

TEST(SharedMessage, ErrorsSayWhichLine) {
  auto r = DecodeMessage("shared-report 1\nsent 1\nleader a\nfull 0\nobject k 1\n");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 5"), std::string::npos) << r.status().ToString();
}

TEST(SharedMessage, SizeAndCountAreBounded) {
  std::string big = "shared-report 1\nsent 1\nleader a\nfull 0\n";
  for (size_t i = 0; big.size() <= kMaxMessageSize; ++i) {
    big += "object k" + std::to_string(i) + std::string(400, 'x') + " 1 0 0 0 0 0\n";
  }
  EXPECT_EQ(DecodeMessage(big).status().code(), StatusCode::kInvalidArgument);

  std::string many = "shared-grants 1\nsent 1\n";
  for (size_t i = 0; i <= kMaxObjectsPerMessage; ++i)
    many += "grant k a" + std::to_string(i) + " 1 1\n";
  ASSERT_LE(many.size(), kMaxMessageSize);
  EXPECT_EQ(DecodeMessage(many).status().code(), StatusCode::kInvalidArgument);
  // One fewer is fine.
  many.resize(many.rfind("grant "));
  auto ok = DecodeMessage(many);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(std::get<GrantMessage>(*ok).grants.size(), kMaxObjectsPerMessage);
}

TEST(SharedMessage, ObjectTypeIsTheFirstPart) {
  EXPECT_EQ(ObjectType("outbound_domains/example.com"), "outbound_domains");
  EXPECT_EQ(ObjectType("outbound_domains/host/192.0.2.7"), "outbound_domains");
  EXPECT_EQ(ObjectType("outbound_binding_domains/b1/example.com"), "outbound_binding_domains");
  EXPECT_EQ(ObjectType("obtm/"), "obtm");
  EXPECT_EQ(ObjectType("/x"), "");
  EXPECT_EQ(ObjectType("noslash"), "");
  EXPECT_EQ(ObjectType(""), "");
}

}  // namespace
}  // namespace ec::replication
