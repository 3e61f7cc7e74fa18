// Encoding round trips, decoder rejection of every truncation, and queue ids.
#include "mta/spool/record.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>
#include <vector>

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

// Bit by bit, straight from the definition: what every faster path must agree with.
uint32_t ReferenceCrc32c(uint32_t crc, const uint8_t* p, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

TEST(Crc32cTest, MatchesTheDefinitionAtEveryLengthStartAndSplit) {
  // Lengths around the 3 x 256-byte blocks of the interleaved path, at every 8-byte alignment,
  // and extended from a nonzero CRC in two pieces.
  std::mt19937 rng(17);
  std::vector<uint8_t> data(4 * 3 * 256 + 64);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; start + n <= data.size(); n += (n < 800 ? 1 : 37)) {
      const uint8_t* p = data.data() + start;
      ASSERT_EQ(Crc32c(0, p, n), ReferenceCrc32c(0, p, n)) << start << " " << n;
      const size_t half = n / 3;
      ASSERT_EQ(Crc32c(Crc32c(0, p, half), p + half, n - half), ReferenceCrc32c(0, p, n))
          << start << " " << n;
    }
  }
  std::string big(1 << 20, '\0');
  for (char& c : big) c = static_cast<char>(rng());
  EXPECT_EQ(Crc32c(big),
            ReferenceCrc32c(0, reinterpret_cast<const uint8_t*>(big.data()), big.size()));
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
    // A cut record is an ordinary torn tail, never damage, and nothing is searched past it.
    EXPECT_EQ(scan.torn_tail, !scan.error.empty()) << "cut at " << cut;
    EXPECT_TRUE(scan.damaged.empty()) << "cut at " << cut;
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
    EXPECT_FALSE(scan.torn_tail) << "flip at " << i;  // damage, not a crash
  }
}

// Five messages in a row; the middle one's body is `middle_body`. Returns the bytes and where
// each record starts (plus the end).
std::string FiveRecords(const std::string& middle_body, std::vector<size_t>* starts) {
  std::string bytes;
  for (uint64_t i = 1; i <= 5; ++i) {
    starts->push_back(bytes.size());
    const std::string body = i == 3 ? middle_body : MakeBody("r" + std::to_string(i), 200);
    AppendMessageRecord(MessageMeta{QueueId(i), MakeEnvelope("r", 1), {{}}}, body, &bytes);
    bytes += body;
  }
  starts->push_back(bytes.size());
  return bytes;
}

std::vector<uint64_t> ScannedIds(std::string_view bytes, ScanResult* scan) {
  std::vector<uint64_t> ids;
  *scan = ScanRecords(bytes, true, [&](ScannedRecord&& r) {
    if (auto* m = std::get_if<MessageMeta>(&r.meta)) ids.push_back(m->id.value());
    if (std::holds_alternative<RemoveMeta>(r.meta)) ids.push_back(0);  // must never happen
  });
  return ids;
}

// A body that is a run of whole, valid records (as an attached spool file would be): removes of
// the real messages and a message of its own, 32-byte aligned, so a length with one bit flipped
// lands on one of them.
std::string RecordShapedBody() {
  std::string body;
  while (body.size() < 2048) {
    for (uint64_t id = 1; id <= 5; ++id) AppendRemoveRecord(QueueId(id), &body);
  }
  std::string planted;
  AppendMessageRecord(MessageMeta{QueueId(66), MakeEnvelope("evil", 1), {{}}}, "", &planted);
  body += planted;
  body.resize((body.size() + 31) / 32 * 32, '\0');
  return body;
}

// One flipped bit anywhere in the middle record loses exactly that record: the scan resumes at
// the next one, and never takes the record-shaped bytes in its body for records.
TEST(RecordScanTest, EveryBitFlipInTheMiddleRecordLosesOnlyIt) {
  std::vector<size_t> starts;
  const std::string bytes = FiveRecords(RecordShapedBody(), &starts);
  const std::vector<uint64_t> others{1, 2, 4, 5};
  for (size_t i = starts[2]; i < starts[3]; ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string damaged = bytes;
      damaged[i] ^= static_cast<char>(1 << bit);
      ScanResult scan;
      ASSERT_EQ(ScannedIds(damaged, &scan), others) << "flip at " << i << " bit " << bit;
      ASSERT_EQ(scan.damaged.size(), 1u) << "flip at " << i;
      EXPECT_EQ(scan.damaged[0].offset, starts[2]);
      EXPECT_EQ(scan.damaged[0].length, starts[3] - starts[2]) << "flip at " << i;
      EXPECT_EQ(scan.error, "");
    }
  }
}

// Random bytes over the middle record's header and meta: its lengths are lost, so the scan
// searches, and resumes at the next record.
TEST(RecordScanTest, GarbageInTheMiddleIsSkipped) {
  std::vector<size_t> starts;
  const std::string bytes = FiveRecords(MakeBody("r3", 500), &starts);
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::string damaged = bytes;
    const size_t from = starts[2] + rng() % 40, len = 20 + rng() % 200;
    for (size_t i = from; i < from + len; ++i) damaged[i] = static_cast<char>(rng());
    ScanResult scan;
    ASSERT_EQ(ScannedIds(damaged, &scan), (std::vector<uint64_t>{1, 2, 4, 5})) << round;
    ASSERT_EQ(scan.damaged.size(), 1u);
    EXPECT_EQ(scan.damaged[0].offset, starts[2]);
    EXPECT_EQ(scan.damaged[0].length, starts[3] - starts[2]);
  }
}

// The record magic followed by a header-shaped run inside a payload, with the real header lost:
// the search meets the magic many times, and the checksums turn every false start down.
TEST(RecordScanTest, FalseMagicInPayloadInventsNoRecord) {
  std::string body;
  while (body.size() < 4096) {
    std::string fake;
    AppendRemoveRecord(QueueId(1), &fake);
    fake[fake.size() - 1] ^= 1;  // a remove of message 1 but for its checksum
    body += fake;
    body += std::string("\xC5\x00\x5B\xEC\x01\x01\x00\x00\x10\x00\x00\x00", 12);
  }
  std::vector<size_t> starts;
  const std::string bytes = FiveRecords(body, &starts);
  std::string damaged = bytes;
  for (size_t i = starts[2]; i < starts[2] + kRecordHeaderSize; ++i) damaged[i] = '\xFF';
  ScanResult scan;
  EXPECT_EQ(ScannedIds(damaged, &scan), (std::vector<uint64_t>{1, 2, 4, 5}));
  ASSERT_EQ(scan.damaged.size(), 1u);
  EXPECT_EQ(scan.damaged[0].offset + scan.damaged[0].length, starts[3]);
}

// Damage of the last record is a damaged tail, not a torn one; a cut after damage is not an
// ordinary torn tail either.
TEST(RecordScanTest, DamagedTailIsNotTorn) {
  std::vector<size_t> starts;
  const std::string bytes = FiveRecords(MakeBody("r3", 300), &starts);
  std::string damaged = bytes;
  damaged[starts[4] + 100] ^= 4;
  ScanResult scan;
  EXPECT_EQ(ScannedIds(damaged, &scan), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(scan.torn_tail);
  EXPECT_EQ(scan.valid_end, starts[4]);
  EXPECT_TRUE(scan.damaged.empty());

  damaged = bytes.substr(0, starts[5] - 10);
  damaged[starts[3] + 100] ^= 4;  // record 4 damaged, record 5 cut
  EXPECT_EQ(ScannedIds(damaged, &scan), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_FALSE(scan.torn_tail);
  EXPECT_EQ(scan.valid_end, starts[3]);

  // Zeros where the file grew before its data reached the disk: torn.
  damaged = bytes + std::string(4096, '\0');
  EXPECT_EQ(ScannedIds(damaged, &scan), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(scan.torn_tail);
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
