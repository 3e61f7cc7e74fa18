// The DuraVIP wire messages: round trips and what a peer must not be able to send.
#include "duravip/report.h"

#include <gtest/gtest.h>

namespace ec::duravip {
namespace {

TEST(DuravipReport, ReportRoundTrips) {
  ReportMessage r;
  r.report.node = "node1";
  r.report.held = {"198.18.0.100", "2001:db8::1"};
  r.report.configured = {{.address = "198.18.0.100", .kind = "listen", .preference = "node1"},
                         {.address = "198.18.0.101", .kind = "binding", .name = "pool-a"}};
  r.takeovers = 7;
  r.sees = {"manager", "node2"};
  auto back = DecodeMessage(EncodeMessage(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto* got = std::get_if<ReportMessage>(&*back);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->report.node, "node1");
  EXPECT_EQ(got->report.held, r.report.held);
  EXPECT_EQ(got->report.configured, r.report.configured);
  EXPECT_EQ(got->takeovers, 7u);
  EXPECT_EQ(got->sees, r.sees);
}

TEST(DuravipReport, MoveAndAnnounceRoundTrip) {
  auto move = DecodeMessage(EncodeMessage(MoveMessage{"198.18.0.100", "node2"}));
  ASSERT_TRUE(move.ok());
  const auto* m = std::get_if<MoveMessage>(&*move);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->address, "198.18.0.100");
  EXPECT_EQ(m->node, "node2");
  auto announce = DecodeMessage(EncodeMessage(AnnounceMessage{}));
  ASSERT_TRUE(announce.ok());
  EXPECT_TRUE(std::holds_alternative<AnnounceMessage>(*announce));
}

TEST(DuravipReport, OtherGroupTrafficIsNotFound) {
  EXPECT_EQ(DecodeMessage("replicate 1\nfoo\n").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(DecodeMessage("").status().code(), StatusCode::kNotFound);
}

TEST(DuravipReport, MalformedIsRefused) {
  const char* bad[] = {
      "duravip-report 1\n",                                      // no node
      "duravip-report 1\nnode a\nnode b\n",                      // two nodes
      "duravip-report 1\nnode a\nheld 198.18.0.300\n",           // not an IP
      "duravip-report 1\nnode a\nheld 198.018.0.1\n",            // not canonical
      "duravip-report 1\nnode a\nvip 198.18.0.1 other - -\n",    // unknown kind
      "duravip-report 1\nnode a\nvip 198.18.0.1 listen -\n",     // short
      "duravip-report 1\nnode a\ntakeovers x\n",                 // not a number
      "duravip-report 1\nnode a",                                // no final newline
      "duravip-report 2\nnode a\n",                              // unknown version
      "duravip-move 1\n198.18.0.1\n",                            // no node
      "duravip-move 1\n198.18.0.1 a b\n",                        // extra word
      "duravip-announce 1\nextra\n",
      "duravip-report 1\nnode a\n\n",                            // empty line
      "duravip-report 1\nnode a\x01\n",                          // control byte in a name
  };
  for (const char* text : bad) {
    auto r = DecodeMessage(text);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(DuravipReport, SizeIsBounded) {
  std::string big = "duravip-report 1\nnode a\n";
  while (big.size() <= kMaxMessageSize) big += "held 198.18.0.1\n";
  EXPECT_EQ(DecodeMessage(big).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ec::duravip
