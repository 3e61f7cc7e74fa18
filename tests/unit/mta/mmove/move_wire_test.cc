// The #mmove wire format: every command and reply round-trips, a payload rebuilt from chunks
// decodes to the message that was sent, and damaged or hostile input is refused.
#include "mta/mmove/move_wire.h"

#include <gtest/gtest.h>

#include "eccluster/frames.h"
#include "mta/spool/crc32c.h"

namespace ec::mmove {
namespace {

spool::MessageMeta WireTestMeta() {
  spool::MessageMeta m;
  m.id = spool::QueueId(0x5F3A2B1C4D00A1);
  m.envelope.mail_from = "a@example.org";
  m.envelope.rcpts = {{.address = "x@example.com"}, {.address = "y@example.com", .notify = 2}};
  m.envelope.binding = "vip1";
  m.envelope.received_us = 1234567;
  m.states = {{}, {.kind = spool::RecipientState::Kind::kDone, .retries = 3}};
  return m;
}

TEST(MmoveWire, CommandsRoundTrip) {
  const spool::QueueId id(0x5F3A2B1C4D00A1);
  std::vector<MoveCommand> all = {
      {.op = MoveOp::kBegin, .sender_id = id, .payload_bytes = 99, .payload_crc = 0xFFFFFFFF},
      {.op = MoveOp::kChunk, .sender_id = id, .offset = 2880, .data = std::string(kChunkBytes, '\xff')},
      {.op = MoveOp::kChunk, .sender_id = id, .offset = 0, .data = "x"},
      {.op = MoveOp::kCommit, .sender_id = id},
      {.op = MoveOp::kAbort, .sender_id = id},
  };
  for (const MoveCommand& c : all) {
    std::string line = EncodeCommand(c);
    EXPECT_LE(line.size(), eccluster::kMaxCommandLine) << line.substr(0, 40);
    auto back = ParseLine(line);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(*back, c);
  }
}

TEST(MmoveWire, RefusesBadCommands) {
  for (const char* line : {
           "", "mmove", "mmove begin", "mmove begin 0005F3A2B1C4D00A", "mmove begin zz 1 1",
           "mmove begin 0000000000000000 1 1",           // id 0 is never issued
           "mmove begin 0005F3A2B1C4D00A 0 1",           // empty payload
           "mmove begin 0005F3A2B1C4D00A 67108865 1",    // over kMaxPayloadBytes
           "mmove begin 0005F3A2B1C4D00A 10 4294967296",  // crc over 32 bits
           "mmove begin 0005F3A2B1C4D00A 10 -1", "mmove begin 0005F3A2B1C4D00A 10 1 extra",
           "mmove chunk 0005F3A2B1C4D00A 0", "mmove chunk 0005F3A2B1C4D00A 0 !!!!",
           "mmove chunk 0005F3A2B1C4D00A 0 YQ",  // unpadded
           "mmove chunk 0005F3A2B1C4D00A 67108864 YQ==",  // beyond the largest payload
           "mmove chunk 0005F3A2B1C4D00A 18446744073709551615 YQ==",
           "mmove commit", "mmove commit 0005F3A2B1C4D00A x", "mmove push 0005F3A2B1C4D00A",
           "journal read mainlog x 1"}) {
    EXPECT_FALSE(ParseLine(line).ok()) << line;
  }
  std::string big = "mmove chunk 0005F3A2B1C4D00A 0 " +
                    std::string(((kChunkBytes + 3) / 3) * 4, 'A');  // one chunk too many bytes
  EXPECT_FALSE(ParseLine(big).ok());
}

TEST(MmoveWire, PayloadThroughChunksDecodesToTheMessage) {
  spool::MessageMeta meta = WireTestMeta();
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "line " + std::to_string(i) + "\r\n";
  std::string payload = EncodePayload(meta, body);
  std::vector<MoveCommand> cmds = CommandsFor(meta.id, payload);
  ASSERT_GE(cmds.size(), 3u);
  EXPECT_EQ(cmds.front().op, MoveOp::kBegin);
  EXPECT_EQ(cmds.back().op, MoveOp::kCommit);
  EXPECT_EQ(cmds.front().payload_crc, spool::Crc32c(payload));
  std::string rebuilt;
  for (const MoveCommand& c : cmds) {
    auto parsed = ParseLine(EncodeCommand(c));
    ASSERT_TRUE(parsed.ok());
    if (parsed->op != MoveOp::kChunk) continue;
    ASSERT_EQ(parsed->offset, rebuilt.size());
    rebuilt += parsed->data;
  }
  ASSERT_EQ(rebuilt.size(), cmds.front().payload_bytes);
  auto moved = DecodePayload(rebuilt);
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(moved->meta.id, meta.id);
  EXPECT_EQ(moved->meta.envelope, meta.envelope);
  EXPECT_EQ(moved->meta.states, meta.states);
  EXPECT_EQ(moved->body, body);
}

TEST(MmoveWire, PayloadDamageIsRefused) {
  std::string payload = EncodePayload(WireTestMeta(), "Subject: x\r\n\r\nbody\r\n");
  ASSERT_TRUE(DecodePayload(payload).ok());
  EXPECT_FALSE(DecodePayload(payload + "x").ok());
  EXPECT_FALSE(DecodePayload(payload.substr(0, payload.size() - 1)).ok());
  EXPECT_FALSE(DecodePayload("").ok());
  for (size_t i = 0; i < payload.size(); ++i) {
    std::string bad = payload;
    bad[i] ^= 0x20;
    EXPECT_FALSE(DecodePayload(bad).ok()) << "byte " << i;
  }
  std::string update;
  spool::AppendRemoveRecord(spool::QueueId(7), &update);
  EXPECT_FALSE(DecodePayload(update).ok());
}

TEST(MmoveWire, RepliesRoundTrip) {
  const spool::QueueId id(0x5F3A2B1C4D00A2);
  for (const MoveReply& r : {MoveReply{.kind = MoveReply::Kind::kReady},
                             MoveReply{.kind = MoveReply::Kind::kOk},
                             MoveReply{.kind = MoveReply::Kind::kStored, .receiver_id = id},
                             MoveReply{.kind = MoveReply::Kind::kDuplicate, .receiver_id = id}}) {
    auto back = ParseReply(EncodeReply(r));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, r);
  }
  for (const char* bad : {"", "stored", "dup x", "stored 0000000000000000", "ready now", "OK"}) {
    EXPECT_FALSE(ParseReply(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ec::mmove
