#include "msgc/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ec::msgc {
namespace {

using ::testing::HasSubstr;

Frame Valid(MessageType type) {
  Frame f;
  f.type = type;
  f.incarnation = 0x0102030405060708ull;
  f.sequence = 42;
  f.sender = "node1";
  switch (type) {
    case MessageType::kHello:
    case MessageType::kHeartbeat:
      f.payload = *EncodeGroupList({"ec_cluster", "ec_console"});
      break;
    case MessageType::kJoin:
    case MessageType::kLeave:
      f.group = "ec_cluster";
      break;
    case MessageType::kShout:
    case MessageType::kWhisper:
      f.group = "ec_console";
      f.payload = std::string("bin\0ary", 7);
      break;
    case MessageType::kRequest:
    case MessageType::kReply:
      f.group = "ec_console";
      f.correlation = 99;
      f.payload = "summary";
      break;
    case MessageType::kGoodbye:
      break;
  }
  return f;
}

// Decode's error message for `bytes`, or "" if it decoded.
std::string DecodeError(std::string_view bytes) {
  auto r = Decode(bytes);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

class MsgcCodecRoundTrip : public ::testing::TestWithParam<MessageType> {};

TEST_P(MsgcCodecRoundTrip, EncodeThenDecodeGivesTheSameFrame) {
  const Frame frame = Valid(GetParam());
  auto bytes = Encode(frame);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto decoded = Decode(*bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, frame);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MsgcCodecRoundTrip,
                         ::testing::Values(MessageType::kHello, MessageType::kHeartbeat,
                                           MessageType::kJoin, MessageType::kLeave,
                                           MessageType::kShout, MessageType::kWhisper,
                                           MessageType::kRequest, MessageType::kReply,
                                           MessageType::kGoodbye),
                         [](const auto& info) { return std::string(MessageTypeName(info.param)); });

TEST(MsgcCodec, LayoutMatchesTheDocumentedFormat) {
  Frame f = Valid(MessageType::kWhisper);
  f.payload = "hi";
  const std::string bytes = *Encode(f);
  const std::string expected =
      std::string("\xEC\x01\x06\x00", 4) + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8) +
      std::string("\0\0\0\0\0\0\0\x2A", 8) + std::string(8, '\0') + "\x05node1" +
      "\x0A"
      "ec_console" +
      std::string("\0\0\0\x02", 4) + "hi";
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(bytes.size(), kFixedHeaderSize + 5 + 1 + 10 + 4 + 2);
}

TEST(MsgcCodec, ReplyErrorFlagRoundTrips) {
  Frame f = Valid(MessageType::kReply);
  f.flags = kFlagError;
  EXPECT_EQ(*Decode(*Encode(f)), f);
}

TEST(MsgcCodec, LargestPayloadIsAcceptedAndOneMoreByteIsNot) {
  Frame f = Valid(MessageType::kShout);
  f.payload.assign(kMaxPayload, 'x');
  auto bytes = Encode(f);
  ASSERT_TRUE(bytes.ok());
  EXPECT_TRUE(Decode(*bytes).ok());
  f.payload.push_back('x');
  EXPECT_THAT(Encode(f).status().message(), HasSubstr("exceeds the limit of 1048576"));
}

TEST(MsgcCodecDecodeErrors, EmptyInput) {
  EXPECT_THAT(DecodeError(""), HasSubstr("truncated in magic"));
}

TEST(MsgcCodecDecodeErrors, BadMagic) {
  std::string b = *Encode(Valid(MessageType::kJoin));
  b[0] = 'X';
  EXPECT_THAT(DecodeError(b), HasSubstr("bad magic byte 88"));
}

TEST(MsgcCodecDecodeErrors, UnsupportedVersion) {
  std::string b = *Encode(Valid(MessageType::kJoin));
  b[1] = 2;
  EXPECT_THAT(DecodeError(b), HasSubstr("unsupported protocol version 2"));
}

TEST(MsgcCodecDecodeErrors, UnknownType) {
  std::string b = *Encode(Valid(MessageType::kJoin));
  b[2] = 0;
  EXPECT_THAT(DecodeError(b), HasSubstr("unknown message type 0"));
  b[2] = 10;
  EXPECT_THAT(DecodeError(b), HasSubstr("unknown message type 10"));
}

TEST(MsgcCodecDecodeErrors, ReservedFlags) {
  std::string b = *Encode(Valid(MessageType::kShout));
  b[3] = kFlagError;  // only REPLY may carry it
  EXPECT_THAT(DecodeError(b), HasSubstr("SHOUT: reserved flag bits set"));
  std::string r = *Encode(Valid(MessageType::kReply));
  r[3] = 0x02;
  EXPECT_THAT(DecodeError(r), HasSubstr("REPLY: reserved flag bits set"));
}

TEST(MsgcCodecDecodeErrors, TruncatedAtEveryOffset) {
  const std::string b = *Encode(Valid(MessageType::kRequest));
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_THAT(DecodeError(b.substr(0, n)), HasSubstr("truncated")) << "length " << n;
  }
  EXPECT_THAT(DecodeError(b.substr(0, 5)), HasSubstr("truncated in incarnation at offset 4"));
}

TEST(MsgcCodecDecodeErrors, TrailingBytes) {
  EXPECT_THAT(DecodeError(*Encode(Valid(MessageType::kGoodbye)) + "zz"),
              HasSubstr("2 trailing bytes after the payload"));
}

TEST(MsgcCodecDecodeErrors, OverlongLengthsAreRefusedBeforeReading) {
  std::string b = *Encode(Valid(MessageType::kGoodbye));
  b[kFixedHeaderSize - 1] = static_cast<char>(65);
  EXPECT_THAT(DecodeError(b), HasSubstr("sender name of 65 bytes exceeds"));

  Frame f = Valid(MessageType::kShout);
  f.payload = "";
  std::string s = *Encode(f);
  const size_t group_length_at = kFixedHeaderSize + f.sender.size();
  std::string g = s;
  g[group_length_at] = static_cast<char>(200);
  EXPECT_THAT(DecodeError(g), HasSubstr("group name of 200 bytes exceeds"));
  std::string p = s;
  const size_t payload_length_at = group_length_at + 1 + f.group.size();
  p[payload_length_at] = '\x7f';
  EXPECT_THAT(DecodeError(p), HasSubstr("payload of 2130706432 bytes exceeds"));
}

TEST(MsgcCodecDecodeErrors, OversizedFrame) {
  EXPECT_THAT(DecodeError(std::string(kMaxFrameSize + 1, '\0')), HasSubstr("frame of"));
}

// Builds a frame by hand, bypassing Encode's validation, to check Decode's.
std::string RawFrame(uint8_t type, uint64_t incarnation, uint64_t correlation,
                     const std::string& sender, const std::string& group,
                     const std::string& payload) {
  std::string out = {'\xEC', '\x01', static_cast<char>(type), '\0'};
  auto put64 = [&](uint64_t v) {
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(v >> s));
  };
  put64(incarnation);
  put64(1);
  put64(correlation);
  out.push_back(static_cast<char>(sender.size()));
  out += sender;
  out.push_back(static_cast<char>(group.size()));
  out += group;
  const uint32_t n = static_cast<uint32_t>(payload.size());
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  return out + payload;
}

TEST(MsgcCodecDecodeErrors, PerTypeRules) {
  const std::string groups = *EncodeGroupList({});
  EXPECT_EQ(DecodeError(RawFrame(2, 7, 0, "n1", "", groups)), "");
  EXPECT_THAT(DecodeError(RawFrame(2, 0, 0, "n1", "", groups)), HasSubstr("incarnation is zero"));
  EXPECT_THAT(DecodeError(RawFrame(2, 7, 0, "", "", groups)), HasSubstr("sender name"));
  EXPECT_THAT(DecodeError(RawFrame(2, 7, 0, "Node1", "", groups)), HasSubstr("sender name"));
  EXPECT_THAT(DecodeError(RawFrame(2, 7, 0, "n1", "g", groups)),
              HasSubstr("must not name a group"));
  EXPECT_THAT(DecodeError(RawFrame(2, 7, 0, "n1", "", "")),
              HasSubstr("HEARTBEAT: frame truncated in group count"));
  EXPECT_THAT(DecodeError(RawFrame(3, 7, 0, "n1", "", "")), HasSubstr("JOIN: group name"));
  EXPECT_THAT(DecodeError(RawFrame(3, 7, 0, "n1", "a b", "")), HasSubstr("JOIN: group name"));
  EXPECT_THAT(DecodeError(RawFrame(3, 7, 0, "n1", "g", "x")),
              HasSubstr("must not carry a payload"));
  EXPECT_THAT(DecodeError(RawFrame(5, 7, 3, "n1", "g", "x")),
              HasSubstr("correlation id must be zero"));
  EXPECT_THAT(DecodeError(RawFrame(7, 7, 0, "n1", "g", "x")),
              HasSubstr("REQUEST: correlation id is zero"));
  EXPECT_THAT(DecodeError(RawFrame(9, 7, 0, "n1", "", "x")), HasSubstr("GOODBYE: must not carry"));
}

TEST(MsgcCodecGroupList, RoundTripAndErrors) {
  auto list = EncodeGroupList({"ec_cluster", "#ec0-12#n1"});
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(*DecodeGroupList(*list), ::testing::ElementsAre("ec_cluster", "#ec0-12#n1"));
  EXPECT_THAT(DecodeGroupList("").status().message(), HasSubstr("truncated in group count"));
  EXPECT_THAT(DecodeGroupList(std::string("\x41", 1)).status().message(),
              HasSubstr("65 entries exceeds the limit of 64"));
  EXPECT_THAT(DecodeGroupList(std::string("\x01\x05"
                                          "ab",
                                          4))
                  .status()
                  .message(),
              HasSubstr("truncated in group list entry"));
  EXPECT_THAT(DecodeGroupList(std::string("\x01\x00", 2)).status().message(),
              HasSubstr("bad group name"));
  EXPECT_THAT(DecodeGroupList(std::string("\x02\x01g\x01g", 5)).status().message(),
              HasSubstr("duplicate group"));
  EXPECT_THAT(DecodeGroupList(std::string("\x00z", 2)).status().message(),
              HasSubstr("1 trailing bytes"));
  EXPECT_THAT(EncodeGroupList({"g", "g"}).status().message(), HasSubstr("duplicate"));
  EXPECT_THAT(EncodeGroupList(std::vector<std::string>(65, "g")).status().message(),
              HasSubstr("more than 64"));
}

// Node names: msgc_node_name_test.
TEST(MsgcCodecNames, GroupNameRules) {
  EXPECT_TRUE(IsValidGroupName("#ec0-1234#node1"));
  EXPECT_FALSE(IsValidGroupName("has space"));
  EXPECT_FALSE(IsValidGroupName(std::string("\x80", 1)));
}

}  // namespace
}  // namespace ec::msgc
