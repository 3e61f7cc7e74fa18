// Encoding round trips, decoder rejection of every truncation, and queue ids.
#include "mta/spool/record.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "mta/spool/crc32c.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::spool {
namespace {

using testing::MakeBody;
using testing::MakeEnvelope;

TEST(Crc32cTest, MatchesKnownCheckValue) {
  // The standard check value of CRC-32C over "123456789".
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  // Extending in pieces gives the same as at once.
  EXPECT_EQ(Crc32c(Crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
}

TEST(RecordTest, MessageRoundTrip) {
  MessageMeta meta{QueueId(0x1234), MakeEnvelope("rt", 3), {}};
  meta.states = {{RecipientState::Kind::kDone, 1, 5}, {}, {RecipientState::Kind::kFailed, 2, 9}};
  const std::string body = MakeBody("rt", 1000);
  std::string bytes;
  AppendMessageRecord(meta, body, &bytes);
  bytes += body;

  std::vector<ScannedRecord> seen;
  ScanResult scan = ScanRecords(bytes, true, [&](ScannedRecord&& r) { seen.push_back(r); });
  EXPECT_EQ(scan.error, "");
  EXPECT_EQ(scan.valid_end, bytes.size());
  ASSERT_EQ(seen.size(), 1u);
  const auto& got = std::get<MessageMeta>(seen[0].meta);
  EXPECT_EQ(got.id, meta.id);
  EXPECT_EQ(got.envelope, meta.envelope);
  EXPECT_EQ(got.states, meta.states);
  EXPECT_EQ(seen[0].body, body);
}

TEST(RecordTest, BindingFieldsRoundTripAndUnknownFieldsAreRejected) {
  for (auto [binding, group] : {std::pair{"b1", ""}, std::pair{"", "pool"}}) {
    MessageMeta meta{QueueId(0x99), MakeEnvelope("bind", 2), {{}, {}}};
    meta.envelope.binding = binding;
    meta.envelope.binding_group = group;
    std::string bytes;
    AppendMessageRecord(meta, "x", &bytes);
    bytes += "x";
    std::vector<ScannedRecord> seen;
    ScanRecords(bytes, true, [&](ScannedRecord&& r) { seen.push_back(r); });
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(std::get<MessageMeta>(seen[0].meta).envelope, meta.envelope);
  }
  // A tag this version does not know is an error, not silently skipped data.
  MessageMeta meta{QueueId(0x9a), MakeEnvelope("bind", 1), {{}}};
  std::string bytes;
  AppendMessageRecord(meta, "", &bytes);
  std::string m = bytes.substr(kRecordHeaderSize) + std::string("\x07\0\0\0\0", 5);
  auto decoded = DecodeMessageMeta(m);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("unknown envelope field 7"), std::string::npos);
}

TEST(RecordTest, UpdateAndRemoveRoundTrip) {
  std::string bytes;
  UpdateMeta update{QueueId(7), {{1, {RecipientState::Kind::kDone, 3, 77}}, {0, {}}}};
  AppendUpdateRecord(update, &bytes);
  AppendRemoveRecord(QueueId(8), &bytes);
  std::vector<ScannedRecord> seen;
  ScanResult scan = ScanRecords(bytes, true, [&](ScannedRecord&& r) { seen.push_back(r); });
  EXPECT_EQ(scan.error, "");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(std::get<UpdateMeta>(seen[0].meta).id, QueueId(7));
  EXPECT_EQ(std::get<UpdateMeta>(seen[0].meta).updates, update.updates);
  EXPECT_EQ(std::get<RemoveMeta>(seen[1].meta).id, QueueId(8));
}

TEST(RecordTest, SegmentHeaderRoundTripAndCorruption) {
  std::string bytes = EncodeSegmentHeader({42, 99});
  ASSERT_EQ(bytes.size(), kSegmentHeaderSize);
  auto header = DecodeSegmentHeader(bytes);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, (SegmentHeader{42, 99}));
  bytes[9] ^= 1;
  EXPECT_FALSE(DecodeSegmentHeader(bytes).ok());
  EXPECT_FALSE(DecodeSegmentHeader(bytes.substr(0, 31)).ok());
}

// A record cut anywhere is never returned; the records before it always are.
TEST(RecordTest, EveryTruncationDropsOnlyTheTornRecord) {
  std::string bytes;
  MessageMeta first{QueueId(1), MakeEnvelope("a", 1), {{}}};
  AppendMessageRecord(first, "body-a", &bytes);
  bytes += "body-a";
  const size_t first_end = bytes.size();
  MessageMeta second{QueueId(2), MakeEnvelope("b", 2), {{}, {}}};
  const std::string body = MakeBody("b", 300);
  AppendMessageRecord(second, body, &bytes);
  bytes += body;

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    std::vector<QueueId> ids;
    ScanResult scan =
        ScanRecords(std::string_view(bytes).substr(0, cut), true,
                    [&](ScannedRecord&& r) { ids.push_back(std::get<MessageMeta>(r.meta).id); });
    const bool first_whole = cut >= first_end;
    EXPECT_EQ(ids.size(), first_whole ? 1u : 0u) << "cut at " << cut;
    EXPECT_EQ(scan.valid_end, first_whole ? first_end : 0u) << "cut at " << cut;
    EXPECT_EQ(scan.error.empty(), cut == 0 || cut == first_end) << "cut at " << cut;
  }
}

// A flipped bit anywhere in a record makes the scan stop before it (never a wrong message).
TEST(RecordTest, EveryBitFlipIsDetected) {
  std::string bytes;
  MessageMeta meta{QueueId(5), MakeEnvelope("f", 1), {{}}};
  const std::string body = "short body";
  AppendMessageRecord(meta, body, &bytes);
  bytes += body;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x10;
    int seen = 0;
    ScanResult scan = ScanRecords(damaged, true, [&](ScannedRecord&&) { ++seen; });
    EXPECT_EQ(seen, 0) << "flip at " << i;
    EXPECT_FALSE(scan.error.empty());
  }
}

TEST(QueueIdTest, FormatsAndParses) {
  QueueId id(0x0005F3A2B1C4D00Aull);
  EXPECT_EQ(id.ToString(), "0005F3A2B1C4D00A");
  EXPECT_EQ(QueueId::Parse("0005f3a2b1c4d00a"), id);
  EXPECT_FALSE(QueueId::Parse("0005F3A2B1C4D00").has_value());
  EXPECT_FALSE(QueueId::Parse("0005F3A2B1C4D00G").has_value());
}

TEST(QueueIdTest, UniqueAndOrderedAcrossThreads) {
  QueueIdGenerator gen;
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::vector<QueueId>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) per_thread[t].push_back(gen.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<QueueId> all;
  for (const auto& ids : per_thread) {
    for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
    all.insert(ids.begin(), ids.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);
  // String order equals numeric order.
  std::set<std::string> strings;
  for (QueueId id : all) strings.insert(id.ToString());
  auto it = all.begin();
  for (const std::string& s : strings) EXPECT_EQ(s, (it++)->ToString());
}

TEST(QueueIdTest, FloorFromTheFutureIsRespected) {
  QueueIdGenerator gen;
  // As after a restart whose clock is behind the last id on disk.
  const QueueId far(~uint64_t{0} - 1000);
  gen.RaiseFloor(far);
  EXPECT_GT(gen.Next(), far);
}

}  // namespace
}  // namespace ec::spool

namespace ec::spool {
namespace {

// The fuzz seeds are written by tests/fuzz/spool/make_corpus.py, an independent encoder of the
// format: its valid segment must decode to exactly what that script wrote.
TEST(RecordTest, CommittedCorpusSeedDecodes) {
  const char* root = std::getenv("EC_SOURCE_DIR");
  const std::string path =
      std::string(root ? root : ".") + "/tests/fuzz/spool/corpus/valid_segment";
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << path;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(DecodeSegmentHeader(bytes).ok());
  std::vector<ScannedRecord> seen;
  ScanResult scan = ScanRecords(std::string_view(bytes).substr(kSegmentHeaderSize), true,
                                [&](ScannedRecord&& r) { seen.push_back(r); });
  EXPECT_EQ(scan.error, "");
  ASSERT_EQ(seen.size(), 4u);
  const auto& m = std::get<MessageMeta>(seen[0].meta);
  EXPECT_EQ(m.id, QueueId(0x10));
  EXPECT_EQ(m.envelope.rcpts.size(), 2u);
  EXPECT_EQ(m.envelope.rcpts[1].address, "b@y.net");
  EXPECT_EQ(std::get<UpdateMeta>(seen[1].meta).updates[0].state.retries, 2u);
  EXPECT_EQ(std::get<RemoveMeta>(seen[3].meta).id, QueueId(0x10));
}

}  // namespace
}  // namespace ec::spool
