// The journal in one process: order, durable cursors across reopen, pruning once every
// subscriber has read, the disk bound, torn tails and bad input. Real files in a temp dir.
#include "mta/journal/journal.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ec::journal {
namespace {
namespace fs = std::filesystem;

std::string Line(int i) { return "line " + std::to_string(i) + " of the mainlog"; }

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/journal_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Journal> Open(uint64_t segment_bytes = 4096, uint64_t max_bytes = 1u << 20,
                                std::vector<std::string> subscribers = {"=>master"}) {
    JournalOptions o;
    o.dir = (dir_ / "mainlog").string();
    o.segment_bytes = segment_bytes;
    o.max_bytes = max_bytes;
    o.subscribers = std::move(subscribers);
    auto j = Journal::Open(o);
    EXPECT_TRUE(j.ok()) << j.status().ToString();
    return j.ok() ? std::move(*j) : nullptr;
  }

  size_t SegmentFiles() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "mainlog")) {
      n += e.path().extension() == ".jseg";
    }
    return n;
  }

  // Reads everything after `sub`'s cursor and advances past it; returns the payloads.
  std::vector<std::string> Drain(Journal& j, const std::string& sub, size_t batch = 7) {
    std::vector<std::string> out;
    for (;;) {
      auto r = j.Read(sub, batch);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->empty()) return out;
      for (const Entry& e : *r) out.push_back(e.payload);
      EXPECT_TRUE(j.Advance(sub, r->back().next).ok());
    }
  }

  fs::path dir_;
};

TEST_F(JournalTest, PreCreatedSubscriberReadsEverythingInOrder) {
  auto j = Open();
  ASSERT_TRUE(j);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  auto lines = Drain(*j, "=>master");
  ASSERT_EQ(lines.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(lines[static_cast<size_t>(i)], Line(i));
  EXPECT_GT(j->Stats().records_appended, 0u);
}

TEST_F(JournalTest, ReadDoesNotMoveTheCursorAndAdvanceSurvivesReopen) {
  {
    auto j = Open();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
    auto first = j->Read("=>master", 10);
    ASSERT_TRUE(first.ok());
    auto again = j->Read("=>master", 10);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ((*again)[0].payload, Line(0));  // not consumed until advanced
    ASSERT_TRUE(j->Advance("=>master", (*first)[9].next).ok());
    // Backwards or past the end is refused.
    EXPECT_FALSE(j->Advance("=>master", (*first)[3].next).ok());
    EXPECT_FALSE(j->Advance("=>master", Position{999, 0}).ok());
    EXPECT_FALSE(j->Advance("nobody", (*first)[9].next).ok());
  }
  auto j = Open();
  auto lines = Drain(*j, "=>master");
  ASSERT_EQ(lines.size(), 90u);
  EXPECT_EQ(lines.front(), Line(10));
  EXPECT_EQ(lines.back(), Line(99));
}

TEST_F(JournalTest, SegmentsGoOnceEverySubscriberHasReadThem) {
  auto j = Open(512, 1u << 20, {"=>master", "=>audit"});
  ASSERT_TRUE(j);
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  size_t all = SegmentFiles();
  ASSERT_GT(all, 5u);
  EXPECT_EQ(Drain(*j, "=>master").size(), 200u);
  EXPECT_EQ(SegmentFiles(), all);  // =>audit has not read them
  EXPECT_EQ(Drain(*j, "=>audit", 50).size(), 200u);
  EXPECT_EQ(SegmentFiles(), 1u);  // only the one being written
  JournalStats s = j->Stats();
  EXPECT_EQ(s.segments, 1u);
  for (const auto& sub : s.subscribers) EXPECT_EQ(sub.pending_bytes, 0u) << sub.name;
  // Removing the slow subscriber also releases what only it held.
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  EXPECT_EQ(Drain(*j, "=>master").size(), 200u);
  EXPECT_GT(SegmentFiles(), 5u);
  ASSERT_TRUE(j->RemoveSubscriber("=>audit").ok());
  EXPECT_EQ(SegmentFiles(), 1u);
}

TEST_F(JournalTest, DiskIsBoundedAndTheLossIsReported) {
  const uint64_t kMax = 4096, kSegment = 512;
  auto j = Open(kSegment, kMax);
  ASSERT_TRUE(j);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(j->Append(Line(i)).ok());
    ASSERT_LE(j->Stats().bytes, kMax + kSegment);
  }
  uint64_t on_disk = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "mainlog")) {
    if (e.path().extension() == ".jseg") on_disk += fs::file_size(e.path());
  }
  EXPECT_LE(on_disk, kMax + kSegment);
  JournalStats s = j->Stats();
  EXPECT_GT(s.dropped_bytes, 0u);
  ASSERT_EQ(s.subscribers.size(), 1u);
  EXPECT_GT(s.subscribers[0].dropped_bytes, 0u);
  // What is left is the newest lines, whole and in order.
  auto lines = Drain(*j, "=>master");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), Line(999));
  int first = std::stoi(lines.front().substr(5));
  for (size_t k = 0; k < lines.size(); ++k) EXPECT_EQ(lines[k], Line(first + static_cast<int>(k)));
}

TEST_F(JournalTest, AckOfLinesTheBoundDroppedMeanwhileIsHarmless) {
  auto j = Open(512, 2048);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  auto held = j->Read("=>master", 5);
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 5u);
  for (int i = 5; i < 200; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());  // drops what was read
  EXPECT_TRUE(j->Advance("=>master", held->back().next).ok());
  auto lines = Drain(*j, "=>master");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), Line(199));
  EXPECT_GT(j->Stats().subscribers[0].dropped_bytes, 0u);
}

TEST_F(JournalTest, TornTailIsCutOffAndAppendingGoesOn) {
  fs::path segment;
  {
    auto j = Open();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
    for (const auto& e : fs::directory_iterator(dir_ / "mainlog")) {
      if (e.path().extension() == ".jseg") segment = e.path();
    }
  }
  // Half a record, as a kill -9 inside write(2) could leave.
  std::string half = EncodeRecord(Line(10)).substr(0, 15);
  std::ofstream(segment, std::ios::app | std::ios::binary) << half;
  auto j = Open();
  ASSERT_TRUE(j->Append(Line(10)).ok());
  auto lines = Drain(*j, "=>master");
  ASSERT_EQ(lines.size(), 11u);
  EXPECT_EQ(lines[10], Line(10));
}

TEST_F(JournalTest, BigRecordsAndBadInput) {
  auto j = Open(4096);
  std::string big(200000, 'x');
  ASSERT_TRUE(j->Append(big).ok());
  ASSERT_TRUE(j->Append("after").ok());
  auto r = j->Read("=>master", 10, 100);  // at least one record even past max_bytes
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].payload, big);
  EXPECT_EQ(j->Append(std::string(kMaxPayload + 1, 'y')).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(j->AddSubscriber("../escape").ok());
  EXPECT_FALSE(j->AddSubscriber("").ok());
  EXPECT_EQ(j->Read("nobody", 1).status().code(), StatusCode::kNotFound);
  // A second writer on the same directory is refused.
  JournalOptions o;
  o.dir = (dir_ / "mainlog").string();
  EXPECT_EQ(Journal::Open(o).status().code(), StatusCode::kFailedPrecondition);
}

// `journal ack` with an offset inside a record (from whoever can reach the listener) would
// make the next Read skip to the next segment, losing the lines between: refused, cursor kept.
TEST_F(JournalTest, AdvanceAcceptsOnlyRecordBoundaries) {
  auto j = Open(1u << 20);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  auto all = j->Read("=>master", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 20u);
  const Position inside{(*all)[3].position.segment, (*all)[3].position.offset + 5};
  const Position header{(*all)[3].position.segment, (*all)[3].position.offset + 1};
  // (A position before the oldest record is accepted and changes nothing: see
  // AckOfLinesTheBoundDroppedMeanwhileIsHarmless.)
  ASSERT_TRUE(j->Advance("=>master", Position{(*all)[0].position.segment, 1}).ok());
  for (Position bad : {inside, header}) {
    Status s = j->Advance("=>master", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad.offset << " " << s.ToString();
  }
  // The cursor did not move: everything is still there to read.
  auto again = j->Read("=>master", 100);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 20u);
  EXPECT_EQ(again->front().payload, Line(0));
  // Boundaries are fine: a record's start (twice, from the cursor), and the end of the journal.
  EXPECT_TRUE(j->Advance("=>master", (*all)[5].position).ok());
  EXPECT_TRUE(j->Advance("=>master", (*all)[12].next).ok());
  EXPECT_EQ(j->Read("=>master", 1)->front().payload, Line(13));
  EXPECT_FALSE(
      j->Advance("=>master", {(*all)[15].position.segment, (*all)[15].position.offset + 3}).ok());
  EXPECT_EQ(j->Read("=>master", 1)->front().payload, Line(13));
  EXPECT_TRUE(j->Advance("=>master", all->back().next).ok());
  EXPECT_TRUE(j->Read("=>master", 10)->empty());
}

// Across segments: a position in a later segment is checked from that segment's start.
TEST_F(JournalTest, AdvanceChecksBoundariesInLaterSegments) {
  auto j = Open(256);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  auto all = j->Read("=>master", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 40u);
  const Entry& late = (*all)[30];
  ASSERT_GT(late.position.segment, (*all)[0].position.segment);
  EXPECT_FALSE(j->Advance("=>master", {late.position.segment, late.position.offset + 2}).ok());
  EXPECT_EQ(j->Read("=>master", 1)->front().payload, Line(0));
  EXPECT_TRUE(j->Advance("=>master", late.position).ok());
  EXPECT_EQ(j->Read("=>master", 1)->front().payload, Line(30));
}

TEST_F(JournalTest, LateSubscriberCanStartAtTheEnd) {
  auto j = Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(j->Append(Line(i)).ok());
  ASSERT_TRUE(j->AddSubscriber("tail", true).ok());
  ASSERT_TRUE(j->AddSubscriber("all").ok());
  ASSERT_TRUE(j->Append(Line(5)).ok());
  EXPECT_EQ(Drain(*j, "tail"), std::vector<std::string>{Line(5)});
  EXPECT_EQ(Drain(*j, "all").size(), 6u);
}

TEST(JournalFormatTest, RecordsAndCursorsRoundTripAndRejectDamage) {
  std::string rec = EncodeRecord("hello");
  auto d = DecodeRecord(rec);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->payload, "hello");
  EXPECT_EQ(d->size, rec.size());
  for (size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] ^= 0x01;
    EXPECT_FALSE(DecodeRecord(bad)) << i;
    EXPECT_FALSE(DecodeRecord(std::string_view(rec).substr(0, i))) << i;
  }
  auto c = DecodeCursor(EncodeCursor({7, 1234}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, (Position{7, 1234}));
  std::string cur = EncodeCursor({7, 1234});
  cur[10] ^= 1;
  EXPECT_FALSE(DecodeCursor(cur).ok());
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(0x1234)), 0x1234u);
  EXPECT_FALSE(ParseSegmentFileName("000000000000001g.jseg"));
  EXPECT_FALSE(ParseSegmentFileName("1.jseg"));
}

}  // namespace
}  // namespace ec::journal
