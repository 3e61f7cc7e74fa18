// DataReader: every smuggling variant at every split point against the naive reference model,
// plus sizes, limits, header scanning (also against a whole-buffer model), the BDAT modes, and
// what reaches the BodySink: the body streams out as it arrives and nothing is kept inside.
#include "mta/smtp/data_reader.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

#include "tests/unit/mta/smtp/reference_decoder.h"

namespace ec::smtp {
namespace {

using testing::ReferenceDecodeData;
using testing::ReferenceScanHeaders;

struct Outcome {
  bool done = false;
  size_t consumed = 0;
  std::string body;
  bool bare = false;
  uint64_t content_size = 0;
  HeaderInfo headers;
};

// Feeds `input` in pieces cut at `cuts` (sorted offsets), stopping like the session does.
Outcome FeedPieces(std::string_view input, const std::vector<size_t>& cuts,
                   LineEndingPolicy policy) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, policy, {}, &sink);
  Outcome out;
  size_t pos = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    while (pos < end && !reader.done()) pos += reader.Feed(input.substr(pos, end - pos));
    if (reader.done()) break;
  }
  out.done = reader.done();
  out.consumed = pos;
  out.bare = reader.saw_bare_cr() || reader.saw_bare_lf();
  out.content_size = reader.content_size();
  EXPECT_EQ(reader.wire_size(), pos);
  out.body = sink.Take();
  out.headers = reader.headers();
  return out;
}

void ExpectMatchesReference(std::string_view input, LineEndingPolicy policy) {
  const bool fix = policy == LineEndingPolicy::kFix;
  const testing::ReferenceResult ref = ReferenceDecodeData(input, fix);
  auto check = [&](const Outcome& got, const std::string& how) {
    ASSERT_EQ(got.done, ref.done) << how;
    if (!ref.done) return;
    EXPECT_EQ(got.consumed, ref.consumed) << how;
    EXPECT_EQ(got.body, ref.body) << how;
    EXPECT_EQ(got.bare, ref.bare) << how;
    EXPECT_EQ(got.content_size, got.body.size()) << how;
    const testing::ReferenceHeaders h = ReferenceScanHeaders(got.body);
    EXPECT_TRUE(got.headers.complete) << how;
    EXPECT_EQ(got.headers.present, h.present) << how;
    EXPECT_EQ(got.headers.end_offset, h.end_offset) << how;
    EXPECT_EQ(got.headers.has_message_id, h.has_message_id) << how;
    EXPECT_EQ(got.headers.has_date, h.has_date) << how;
    EXPECT_EQ(got.headers.longest_line, h.longest_line) << how;
  };
  check(FeedPieces(input, {}, policy), "whole");
  for (size_t cut = 1; cut < input.size(); ++cut) {
    check(FeedPieces(input, {cut}, policy), "split at " + std::to_string(cut));
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  check(FeedPieces(input, every, policy), "byte by byte");
}

// The SMTP smuggling variants (SEC Consult 2023 and follow-ups): each looks like an end of data
// to some implementation, then carries a second transaction.
const char* const kSmugglingVariants[] = {
    "\n.\n", "\n.\r\n", "\r.\r",       "\r.\r\n", "\r\n.\n",       "\r\n.\r",
    "\n.\r", "\r.\n",   "\r\n.\r\r\n", "\n..\n",  "\r\n..\r\n.\n", "\r\r\n.\r\r\n",
};

TEST(SmtpDataReaderTest, SmugglingVariantsNeverEndTheMessageAtEverySplitPoint) {
  for (const char* variant : kSmugglingVariants) {
    const std::string fake(variant);
    std::string input = "Subject: s\r\n\r\nhello" + fake +
                        "MAIL FROM:<evil@example.org>\r\nRCPT TO:<v@example.com>\r\nDATA\r\n"
                        "smuggled\r\n.\r\nQUIT\r\n";
    for (LineEndingPolicy policy : {LineEndingPolicy::kFix, LineEndingPolicy::kPedantic}) {
      SCOPED_TRACE(::testing::Message()
                   << "variant " << ::testing::PrintToString(fake)
                   << (policy == LineEndingPolicy::kFix ? " fix" : " pedantic"));
      ExpectMatchesReference(input, policy);
      const Outcome whole = FeedPieces(input, {}, policy);
      ASSERT_TRUE(whole.done);
      // The end is the real one, after "smuggled": the injected commands are message content.
      EXPECT_EQ(whole.consumed, input.size() - std::string("QUIT\r\n").size());
      EXPECT_NE(whole.body.find("MAIL FROM:<evil@example.org>"), std::string::npos);
    }
  }
}

TEST(SmtpDataReaderTest, FixTurnsBareLineEndsIntoCrlf) {
  const Outcome out = FeedPieces("a\nb\rc\r\r\nd\r\n.\r\n", {}, LineEndingPolicy::kFix);
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.body, "a\r\nb\r\nc\r\n\r\nd\r\n");
  EXPECT_TRUE(out.bare);
}

TEST(SmtpDataReaderTest, PedanticKeepsBytesAndFlags) {
  const Outcome out = FeedPieces("a\nb\r\n.\r\n", {}, LineEndingPolicy::kPedantic);
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.body, "a\nb\r\n");
  EXPECT_TRUE(out.bare);
}

TEST(SmtpDataReaderTest, DotStuffingIsUndone) {
  for (const char* input : {"..\r\n.\r\n", "...x\r\n.\r\n", ".x\r\n.\r\n", "a\r\n..\r\n.\r\n",
                            ".\r\n", "x.\r\n.\r\n", "\r\n.\r\n"}) {
    SCOPED_TRACE(input);
    ExpectMatchesReference(input, LineEndingPolicy::kFix);
  }
  EXPECT_EQ(FeedPieces("..\r\n...x\r\n.\r\n", {}, LineEndingPolicy::kFix).body, ".\r\n..x\r\n");
  EXPECT_EQ(FeedPieces(".\r\n", {}, LineEndingPolicy::kFix).body, "");
}

TEST(SmtpDataReaderTest, StopsRightAfterTheTerminator) {
  const std::string input = "body\r\n.\r\nNOOP\r\n";
  const Outcome out = FeedPieces(input, {}, LineEndingPolicy::kFix);
  EXPECT_TRUE(out.done);
  EXPECT_EQ(input.substr(out.consumed), "NOOP\r\n");
}

TEST(SmtpDataReaderTest, NotDoneWithoutTerminator) {
  for (const char* input : {"body\r\n.", "body\r\n.\r", "body\n.\n", "body\r\n. \r\n"}) {
    EXPECT_FALSE(FeedPieces(input, {}, LineEndingPolicy::kFix).done) << input;
  }
}

TEST(SmtpDataReaderTest, SizeLimitDiscardsButReadsToTheEnd) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {.max_message_size = 8},
               &sink);
  const std::string input = "12345678901234\r\nmore\r\n.\r\nNEXT";
  EXPECT_EQ(reader.Feed(input), input.size() - 4);
  EXPECT_TRUE(reader.done());
  EXPECT_TRUE(reader.size_exceeded());
  EXPECT_EQ(reader.content_size(), 22u);
  EXPECT_EQ(sink.data(), "");
}

TEST(SmtpDataReaderTest, SizeExactlyAtLimitIsKept) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {.max_message_size = 6},
               &sink);
  reader.Feed("1234\r\n.\r\n");
  EXPECT_TRUE(reader.done());
  EXPECT_FALSE(reader.size_exceeded());
  EXPECT_EQ(sink.data(), "1234\r\n");
}

TEST(SmtpDataReaderTest, LineLengthLimits) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix,
               {.max_line_length = 5, .max_header_line_length = 8}, &sink);
  reader.Feed("A: 12345\r\n\r\n12345\r\n.\r\n");
  EXPECT_TRUE(reader.done());
  EXPECT_FALSE(reader.header_line_too_long());
  EXPECT_TRUE(reader.line_too_long());  // the header line is 8 > 5
  EXPECT_EQ(reader.longest_line(), 8u);
  EXPECT_EQ(reader.headers().longest_line, 8u);

  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix,
               {.max_line_length = 5, .max_header_line_length = 8}, &sink);
  reader.Feed("A: 123456\r\n\r\n123456\r\n.\r\n");
  EXPECT_TRUE(reader.header_line_too_long());
  EXPECT_TRUE(reader.line_too_long());
}

// Body lines are counted alike whether they come whole in one input (WholeBodyLines) or cut
// anywhere across inputs (the state machine): the longest line, the limit, the bytes kept.
TEST(SmtpDataReaderTest, BodyLineLengthsAtEverySplitPoint) {
  const std::string input = "A: 1\r\n\r\nabc\r\n1234567\r\n\r\n12\r\n.x\r\n.\r\n";
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    for (size_t limit : {size_t{0}, size_t{5}, size_t{7}}) {
      DataReader reader;
      StringBodySink sink;
      reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix,
                   {.max_line_length = limit}, &sink);
      size_t pos = reader.Feed(std::string_view(input).substr(0, cut));
      while (pos < input.size() && !reader.done()) {
        pos += reader.Feed(std::string_view(input).substr(pos));
      }
      SCOPED_TRACE("cut at " + std::to_string(cut) + ", limit " + std::to_string(limit));
      EXPECT_TRUE(reader.done());
      EXPECT_EQ(reader.longest_line(), 7u);
      EXPECT_EQ(reader.line_too_long(), limit == 5);
      EXPECT_EQ(sink.Take(), "A: 1\r\n\r\nabc\r\n1234567\r\n\r\n12\r\nx\r\n");
      EXPECT_EQ(reader.content_size(), 31u);
      EXPECT_EQ(reader.headers().end_offset, 8u);
    }
  }
}

TEST(SmtpDataReaderTest, HeaderScan) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("Subject: x\r\n y\r\nmessage-id: <a@b>\r\n\r\nDate: not a header\r\n.\r\n");
  const HeaderInfo& h = reader.headers();
  EXPECT_TRUE(h.complete);
  EXPECT_TRUE(h.present);
  EXPECT_TRUE(h.has_message_id);
  EXPECT_FALSE(h.has_date);  // only in the body
  EXPECT_EQ(sink.data().substr(h.end_offset), "Date: not a header\r\n");

  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("no header here\r\nDate: x\r\n.\r\n");
  EXPECT_FALSE(reader.headers().present);
  EXPECT_FALSE(reader.headers().has_date);
  EXPECT_EQ(reader.headers().end_offset, 0u);

  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("Date: x\r\n.\r\n");  // headers only, no blank line
  EXPECT_TRUE(reader.headers().complete);
  EXPECT_TRUE(reader.headers().has_date);
}

TEST(SmtpDataReaderTest, HeaderNameSplitAcrossFeeds) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  const std::string input = "Message-ID: <x@y>\r\nDate: d\r\n\r\nb\r\n.\r\n";
  for (char c : input) reader.Feed(std::string_view(&c, 1));
  EXPECT_TRUE(reader.done());
  EXPECT_TRUE(reader.headers().has_message_id);
  EXPECT_TRUE(reader.headers().has_date);
}

TEST(SmtpDataReaderTest, ChunkedModeJoinsCrlfAcrossChunksAndKeepsDots) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kChunked, LineEndingPolicy::kFix, {}, &sink);
  EXPECT_EQ(reader.Feed("A: b\r"), 5u);
  EXPECT_EQ(reader.Feed("\n\r\n.\r\n.."), 8u);
  EXPECT_FALSE(reader.done());
  reader.Finish();
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(sink.data(), "A: b\r\n\r\n.\r\n..");
  EXPECT_FALSE(reader.saw_bare_cr());
}

TEST(SmtpDataReaderTest, ChunkedModeFixesBareLineEndsAndTrailingCr) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kChunked, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("a\nb\r");
  reader.Finish();
  EXPECT_EQ(sink.data(), "a\r\nb\r\n");
  EXPECT_TRUE(reader.saw_bare_lf());
  EXPECT_TRUE(reader.saw_bare_cr());
}

TEST(SmtpDataReaderTest, HeaderEndAfterBareLfBlankLine) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kBinary, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("A: b\n\nbody");
  reader.Finish();
  EXPECT_TRUE(reader.headers().complete);
  EXPECT_EQ(sink.data().substr(reader.headers().end_offset), "body");
}

TEST(SmtpDataReaderTest, BinaryModeKeepsEveryByte) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kBinary, LineEndingPolicy::kPedantic, {.max_line_length = 2},
               &sink);
  const std::string bytes("a\nb\rc\0\r\n.\r\n", 12);
  reader.Feed(bytes);
  reader.Finish();
  EXPECT_EQ(sink.data(), bytes);
  EXPECT_FALSE(reader.saw_bare_lf());
  EXPECT_FALSE(reader.line_too_long());
}

TEST(SmtpDataReaderTest, RandomInputsMatchReference) {
  // Deterministic pseudo-random inputs over the interesting alphabet.
  uint32_t state = 12345;
  auto next = [&state] { return state = state * 1103515245u + 12345u; };
  const char alphabet[] = {'\r', '\n', '.', 'a', ' '};
  for (int round = 0; round < 300; ++round) {
    std::string input;
    const size_t len = 1 + (next() >> 16) % 24;
    for (size_t i = 0; i < len; ++i) input += alphabet[(next() >> 16) % sizeof(alphabet)];
    input += "\r\n.\r\n";
    SCOPED_TRACE(::testing::PrintToString(input));
    ExpectMatchesReference(input, LineEndingPolicy::kFix);
    ExpectMatchesReference(input, LineEndingPolicy::kPedantic);
  }
}

TEST(SmtpDataReaderTest, RandomHeaderSectionsMatchReference) {
  uint32_t state = 777;
  auto next = [&state] { return state = state * 1103515245u + 12345u; };
  const char* const pieces[] = {"Date", "Message-ID", "message-id", "X", ":", " ",     "\t",
                                "\r\n", "\n",         "\r",         "v", ".", "Dates", "\x01"};
  for (int round = 0; round < 400; ++round) {
    std::string input;
    const size_t n = 1 + (next() >> 16) % 12;
    for (size_t i = 0; i < n; ++i) input += pieces[(next() >> 16) % std::size(pieces)];
    input += "\r\n.\r\n";
    SCOPED_TRACE(::testing::PrintToString(input));
    ExpectMatchesReference(input, LineEndingPolicy::kFix);
    ExpectMatchesReference(input, LineEndingPolicy::kPedantic);
  }
}

TEST(SmtpDataReaderTest, FieldNamesMustMatchWhole) {
  DataReader reader;
  StringBodySink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  reader.Feed("Message-IDs: x\r\nDat: y\r\nDATE : z\r\n\r\n.\r\n");
  EXPECT_TRUE(reader.headers().present);
  EXPECT_FALSE(reader.headers().has_message_id);
  EXPECT_FALSE(reader.headers().has_date);  // "DATE " has a blank in its name: not a field
  EXPECT_EQ(reader.headers().end_offset, 24u);
}

// Records what reaches the sink and when.
struct RecordingSink : BodySink {
  void Append(std::string_view bytes) override {
    data.append(bytes);
    ++appends;
  }
  void Discard() override {
    data.clear();
    ++discards;
  }
  std::string data;
  int appends = 0;
  int discards = 0;
};

TEST(SmtpDataReaderTest, BodyStreamsToTheSinkAsItArrives) {
  DataReader reader;
  RecordingSink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  const std::string line(998, 'x');
  std::string expected = "Subject: big\r\n\r\n";
  reader.Feed(expected);
  EXPECT_EQ(sink.data, expected);
  for (int i = 0; i < 2000; ++i) {
    reader.Feed(line + "\r");  // the CR is held back until we know it is a real CRLF
    reader.Feed("\n");
    expected += line + "\r\n";
    ASSERT_EQ(sink.data.size(), expected.size());
  }
  reader.Feed("..dot\r\n.\r\n");
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(sink.data, expected + ".dot\r\n");
  EXPECT_EQ(reader.content_size(), sink.data.size());
  EXPECT_EQ(reader.headers().end_offset, 16u);
  EXPECT_EQ(sink.discards, 0);
}

// Lines with their CRLFs go to the sink as one piece per run of the input (not two appends per
// line): a stuffed dot, or a CR whose LF comes in the next input, starts a new piece.
TEST(SmtpDataReaderTest, RunsOfLinesReachTheSinkAsOnePiece) {
  DataReader reader;
  RecordingSink sink;
  reader.Begin(DataReader::Mode::kDotStuffed, LineEndingPolicy::kFix, {}, &sink);
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += "line " + std::to_string(i) + " of text\r\n";
  reader.Feed("Subject: s\r\n\r\n" + lines);
  EXPECT_EQ(sink.appends, 1);
  reader.Feed(lines + "..dotted\r\n" + lines + "last\r");
  EXPECT_EQ(sink.appends, 3);  // up to the stuffed dot; from after it up to "last"
  reader.Feed("\n.\r\n");  // the CR was in the last input: its CRLF goes on its own
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(sink.appends, 4);
  EXPECT_EQ(sink.data, "Subject: s\r\n\r\n" + lines + lines + ".dotted\r\n" + lines + "last\r\n");
  EXPECT_EQ(reader.content_size(), sink.data.size());
  EXPECT_EQ(reader.headers().end_offset, 14u);
}

TEST(SmtpDataReaderTest, SizeLimitDiscardsTheSinkAtOnce) {
  for (DataReader::Mode mode :
       {DataReader::Mode::kDotStuffed, DataReader::Mode::kChunked, DataReader::Mode::kBinary}) {
    DataReader reader;
    RecordingSink sink;
    reader.Begin(mode, LineEndingPolicy::kFix, {.max_message_size = 1000}, &sink);
    reader.Feed(std::string(600, 'a') + "\r\n");
    EXPECT_EQ(sink.data.size(), 602u);
    reader.Feed(std::string(600, 'b'));  // over the limit: dropped now, not at the end
    EXPECT_TRUE(reader.size_exceeded());
    EXPECT_EQ(sink.discards, 1);
    EXPECT_EQ(sink.data, "");
    const int appends = sink.appends;
    reader.Feed(std::string(100000, 'c') + "\r\n");
    EXPECT_EQ(sink.appends, appends);  // nothing more reaches the sink
    EXPECT_EQ(reader.content_size(), 602u + 600 + 100002);
  }
}

}  // namespace
}  // namespace ec::smtp
