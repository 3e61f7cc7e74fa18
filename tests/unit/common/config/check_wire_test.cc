// The frames between eccfg and `ecmta --check-config-server`: round trips, byte-at-a-time
// reassembly, several frames in one read, and every malformed header and body refused.
#include "common/config/check_wire.h"

#include <gtest/gtest.h>

namespace ec::config {
namespace {

CheckRequest SampleCheckRequest() {
  return {"/r/etc/conf.abc",          "/r/etc/conf.abc", "ecelerity.conf", "/r", "n1",
          "/r/etc:/r/etc/conf.abc/n1"};
}

TEST(CheckWireTest, RequestRoundTripsWholeAndByteByByte) {
  auto frame = EncodeCheckRequest(SampleCheckRequest());
  ASSERT_TRUE(frame.ok());
  EXPECT_TRUE(frame->starts_with("check ")) << *frame;
  CheckFrameParser whole;
  whole.Append(*frame);
  auto r = whole.PopRequest();
  ASSERT_TRUE(r.ok() && r->has_value()) << r.status().ToString();
  EXPECT_EQ(**r, SampleCheckRequest());
  EXPECT_EQ(whole.buffered(), 0u);

  CheckFrameParser bytes;
  for (size_t i = 0; i < frame->size(); ++i) {
    auto none = bytes.PopRequest();
    ASSERT_TRUE(none.ok()) << i;
    ASSERT_FALSE(none->has_value()) << i;
    bytes.Append(frame->substr(i, 1));
  }
  auto last = bytes.PopRequest();
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, SampleCheckRequest());
}

TEST(CheckWireTest, EmptyFieldsSurvive) {
  CheckRequest empty;
  auto frame = EncodeCheckRequest(empty);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(*frame, "check 6\n" + std::string(6, '\0'));
  CheckFrameParser p;
  p.Append(*frame);
  auto r = p.PopRequest();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, empty);
}

TEST(CheckWireTest, RequestEncodingRefusesNulAndOversize) {
  CheckRequest nul = SampleCheckRequest();
  nul.node_name = std::string("n\0x", 3);
  EXPECT_FALSE(EncodeCheckRequest(nul).ok());
  CheckRequest big = SampleCheckRequest();
  big.search_path.assign(kMaxCheckRequest, 'a');
  EXPECT_FALSE(EncodeCheckRequest(big).ok());
}

TEST(CheckWireTest, ReplyRoundTripsAndTwoFramesInOneRead) {
  CheckReply ok{0, "configuration OK (3 files)\n"};
  CheckReply refused{1, "n1/ecelerity.conf:1:1: error: unknown option\n"};
  CheckReply killed{-1, ""};
  CheckFrameParser p;
  p.Append(EncodeCheckReply(ok) + EncodeCheckReply(refused) + EncodeCheckReply(killed));
  for (const CheckReply& want : {ok, refused, killed}) {
    auto r = p.PopReply();
    ASSERT_TRUE(r.ok() && r->has_value()) << r.status().ToString();
    EXPECT_EQ(**r, want);
  }
  auto none = p.PopReply();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(CheckWireTest, ReplyIsCutAndClamped) {
  CheckReply huge{300, std::string(kMaxCheckOutput + 10, 'x')};
  CheckFrameParser p;
  p.Append(EncodeCheckReply(huge));
  auto r = p.PopReply();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->exit_code, 255);
  EXPECT_EQ((*r)->output.size(), kMaxCheckOutput);
  CheckFrameParser q;
  q.Append(EncodeCheckReply({-7, "x"}));
  auto low = q.PopReply();
  ASSERT_TRUE(low.ok() && low->has_value());
  EXPECT_EQ((*low)->exit_code, -1);
}

TEST(CheckWireTest, MalformedRequestsAreRefused) {
  const std::string fields(6, '\0');
  for (const std::string& bad :
       {std::string("done 0 0\n"), std::string("check\n"), std::string("check x\n"),
        std::string("check -1\n"), std::string("check  6\n") + fields,
        std::string("check 6 6\n") + fields, "check 5\n" + fields.substr(0, 5),
        "check 7\n" + fields + "z", std::string("check 99999999\n"), std::string(64, 'c')}) {
    CheckFrameParser p;
    p.Append(bad);
    EXPECT_FALSE(p.PopRequest().ok()) << "accepted: " << bad;
  }
}

TEST(CheckWireTest, MalformedRepliesAreRefused) {
  for (const std::string& bad :
       {std::string("check 0\n"), std::string("done 0\n"), std::string("done x 0\n"),
        std::string("done 256 0\n"), std::string("done -2 0\n"), std::string("done 0 x\n"),
        std::string("done 0 0 0\n"), std::string("done 0 99999999\n"), std::string(64, 'd')}) {
    CheckFrameParser p;
    p.Append(bad);
    EXPECT_FALSE(p.PopReply().ok()) << "accepted: " << bad;
  }
}

}  // namespace
}  // namespace ec::config
