// The `journal read` batch: what a node sends and the manager trusts only after checking.
#include "eccluster/batch.h"

#include <gtest/gtest.h>

namespace ec::eccluster {
namespace {

using Entry = ShippedRecord;
using Position = JournalPosition;

TEST(BatchTest, RoundTripKeepsPositionsAndAnyBytes) {
  std::vector<Entry> entries = {
      {Position{1, 16}, Position{1, 40}, "1795929773@00661637C3640F70@0@R@a@b"},
      {Position{1, 40}, Position{2, 16}, std::string("with\nnewline and \0 nul", 22)},
      {Position{2, 16}, Position{2, 28}, ""},
  };
  auto decoded = DecodeBatch(EncodeBatch(entries));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*decoded)[i].position, entries[i].position);
    EXPECT_EQ((*decoded)[i].next, entries[i].next);
    EXPECT_EQ((*decoded)[i].payload, entries[i].payload);
  }
  auto empty = DecodeBatch(EncodeBatch({}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(BatchTest, MalformedBatchesAreRefusedWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "no 'batch' header"},
      {"ok 1\n", "no 'batch' header"},
      {"batch x\n", "bad record count"},
      {"batch 1\n", "bad header of record 1"},
      {"batch 1\n1 16 1 40 5\nab\n", "truncated"},
      {"batch 1\n1 16 1 40 2\nabX", "truncated"},
      {"batch 1\n1 40 1 16 2\nab\n", "does not move forward"},
      {"batch 2\n1 16 1 40 2\nab\n1 20 1 50 2\ncd\n", "goes back"},
      {"batch 1\n1 16 1 40 2\nab\nextra", "trailing bytes"},
      {"batch 1\n-1 16 1 40 2\nab\n", "bad header"},
      {"batch 1\n99999999999999999999999 16 1 40 2\nab\n", "bad header"},
      {"batch 18446744073709551615\n", "bad header of record 1"},
  };
  for (const auto& [text, why] : cases) {
    auto r = DecodeBatch(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(why), std::string::npos)
        << text << " -> " << r.status().message();
  }
  EXPECT_FALSE(DecodeBatch(std::string(kMaxBatchBytes + 1, 'x')).ok());
}

}  // namespace
}  // namespace ec::eccluster
