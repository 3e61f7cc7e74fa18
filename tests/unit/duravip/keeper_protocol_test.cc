// The keeper's line codec: every command both ways, replies, malformed input, line framing.
#include "duravip/keeper_protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/duravip/vip_test_util.h"

namespace ec::duravip {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DuravipKeeperProtocolTest, ParsesEveryCommand) {
  auto add = ParseRequest("add 198.18.0.100/24 eth1");
  ASSERT_TRUE(add.ok()) << add.status().ToString();
  EXPECT_EQ(add->command, KeeperCommand::kAdd);
  EXPECT_EQ(add->vip, Vip("198.18.0.100/24", "eth1"));

  auto del = ParseRequest("del 2001:db8::1/64 eth0");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->command, KeeperCommand::kDel);
  EXPECT_EQ(del->vip, Vip("2001:db8::1/64", "eth0"));

  auto flush = ParseRequest("flush 198.18.0.100/32 lo");
  ASSERT_TRUE(flush.ok());
  EXPECT_EQ(flush->command, KeeperCommand::kFlush);

  auto announce = ParseRequest("announce 198.18.0.100/24 eth1 3");
  ASSERT_TRUE(announce.ok());
  EXPECT_EQ(announce->command, KeeperCommand::kAnnounce);
  EXPECT_EQ(announce->count, 3);

  auto lease = ParseRequest("lease 3000");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->command, KeeperCommand::kLease);
  EXPECT_EQ(lease->lease_ms, 3000);
  EXPECT_EQ(ParseRequest("lease 0")->lease_ms, 0);

  auto held = ParseRequest("held");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->command, KeeperCommand::kHeld);
}

TEST(DuravipKeeperProtocolTest, RequestsRoundTrip) {
  const std::vector<KeeperRequest> requests = {
      {.command = KeeperCommand::kAdd, .vip = Vip("198.18.0.100/24", "eth1")},
      {.command = KeeperCommand::kDel, .vip = Vip("2001:db8::1/64", "eth0")},
      {.command = KeeperCommand::kFlush, .vip = Vip("198.18.0.7/32", "lo")},
      {.command = KeeperCommand::kAnnounce, .vip = Vip("198.18.0.100/24", "eth1"), .count = 5},
      {.command = KeeperCommand::kLease, .lease_ms = kMaxLeaseMs},
      {.command = KeeperCommand::kHeld},
  };
  for (const KeeperRequest& r : requests) {
    const std::string line = FormatRequest(r);
    auto back = ParseRequest(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
    EXPECT_EQ(*back, r) << line;
  }
  EXPECT_EQ(FormatRequest(requests[3]), "announce 198.18.0.100/24 eth1 5");
  EXPECT_EQ(FormatRequest(requests[4]), "lease 3600000");
}

TEST(DuravipKeeperProtocolTest, ToleratesCrAndExtraBlanks) {
  auto r = ParseRequest("  add\t198.18.0.100/24   eth1 \r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->vip, Vip("198.18.0.100/24", "eth1"));
}

TEST(DuravipKeeperProtocolTest, RejectsMalformedRequests) {
  for (const char* bad : {"",
                          "   ",
                          "\r",
                          "ADD 198.18.0.1/24 eth0",
                          "add",
                          "add 198.18.0.1/24",
                          "add 198.18.0.1/24 eth0 extra",
                          "add 198.18.0.1 eth0",
                          "add nonsense/24 eth0",
                          "add 198.18.0.1/24 eth0:1",
                          "del",
                          "flush 198.18.0.1/24",
                          "announce 198.18.0.1/24 eth0",
                          "announce 198.18.0.1/24 eth0 0",
                          "announce 198.18.0.1/24 eth0 11",
                          "announce 198.18.0.1/24 eth0 -1",
                          "announce 198.18.0.1/24 eth0 x",
                          "lease",
                          "lease -5",
                          "lease 3600001",
                          "lease 99999999999",
                          "lease 1e3",
                          "held now",
                          "reboot",
                          "add\x01 198.18.0.1/24 eth0"}) {
    auto r = ParseRequest(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(ParseRequest("reboot").status().message(), HasSubstr("unknown command \"reboot\""));
  EXPECT_THAT(ParseRequest("add 198.18.0.1/24").status().message(), HasSubstr("2 arguments"));
  EXPECT_FALSE(ParseRequest(std::string("held\0", 5)).ok());
  EXPECT_FALSE(ParseRequest(std::string(kMaxRequestLine + 1, 'a')).ok());
}

TEST(DuravipKeeperProtocolTest, RepliesRoundTrip) {
  const std::vector<KeeperReply> replies = {
      {},
      {.words = {"removed"}},
      {.words = {"198.18.0.1/24", "eth0", "2001:db8::1/64", "eth1"}},
      {.status = Status(StatusCode::kPermissionDenied,
                        "adding 198.18.0.1/24 on eth0 needs CAP_NET_ADMIN")},
      {.status = NotFound("no network interface named eth9")},
      {.status = Status(StatusCode::kFailedPrecondition, "lease of 100 ms lapsed"),
       .expired = true},
  };
  for (const KeeperReply& r : replies) {
    const std::string line = FormatReply(r);
    auto back = ParseReply(line);
    ASSERT_TRUE(back.ok()) << line << ": " << back.status().ToString();
    EXPECT_EQ(*back, r) << line;
  }
  EXPECT_EQ(FormatReply(replies[0]), "ok");
  EXPECT_EQ(FormatReply(replies[1]), "ok removed");
  EXPECT_EQ(FormatReply(replies[3]),
            "err permission_denied adding 198.18.0.1/24 on eth0 needs CAP_NET_ADMIN");
  EXPECT_EQ(FormatReply(replies[5]), "err expired lease of 100 ms lapsed");
}

TEST(DuravipKeeperProtocolTest, ReplyTextStaysOneBoundedLine) {
  const std::string line =
      FormatReply({.status = Internal("a\nb\rc\x01" + std::string(kMaxReplyLine, 'x'))});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_LE(line.size(), kMaxReplyLine);
  EXPECT_TRUE(ParseReply(line).ok());
}

TEST(DuravipKeeperProtocolTest, RejectsMalformedReplies) {
  for (const char* bad : {"", "OK", "okay", "error 5", "err", "err bogus_code text", "err  text",
                          "ok a\x01", "hello"}) {
    EXPECT_FALSE(ParseReply(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseReply("err not_found").ok());  // empty text is fine
  EXPECT_TRUE(ParseReply("ok\r").ok());
}

TEST(DuravipKeeperProtocolTest, HeldWords) {
  const std::vector<VipAddress> held = {Vip("198.18.0.1/24", "eth0"), Vip("2001:db8::1/64", "e")};
  EXPECT_THAT(HeldWords(held), ElementsAre("198.18.0.1/24", "eth0", "2001:db8::1/64", "e"));
  auto back = ParseHeldWords(HeldWords(held));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, held);
  EXPECT_FALSE(ParseHeldWords({"198.18.0.1/24"}).ok());
  EXPECT_FALSE(ParseHeldWords({"x", "eth0"}).ok());
  EXPECT_TRUE(ParseHeldWords({})->empty());
}

TEST(DuravipKeeperProtocolTest, LineReaderSplitsAcrossReads) {
  LineReader reader(16);
  std::string line;
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  reader.Append("he");
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  reader.Append("ld\r\nlease 5\nx");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "held");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "lease 5");
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  EXPECT_EQ(reader.buffered(), 1u);
  reader.Append("\n\n");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "x");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "");
}

TEST(DuravipKeeperProtocolTest, LineReaderSkipsATooLongLineOnceAndResyncs) {
  LineReader reader(8);
  std::string line;
  // Complete too-long line.
  reader.Append("0123456789\nok\n");
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kTooLong);
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "ok");
  // Too long before its end arrives: reported once, the rest dropped through its LF.
  reader.Append("0123456789");
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kTooLong);
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  reader.Append(std::string(1000, 'z'));
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  EXPECT_EQ(reader.buffered(), 0u);
  reader.Append("zz\nheld\n");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "held");
  // Exactly at the limit (CR not counted) is fine.
  reader.Append("12345678\r");
  EXPECT_EQ(reader.Pop(&line), LineReader::Next::kNeedMore);
  reader.Append("\n");
  ASSERT_EQ(reader.Pop(&line), LineReader::Next::kLine);
  EXPECT_EQ(line, "12345678");
}

}  // namespace
}  // namespace ec::duravip
