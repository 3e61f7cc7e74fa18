// StateList: the spool index's per-message recipient states, inline for one recipient.
#include "mta/spool/state_list.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace ec::spool {
namespace {

using StateKind = RecipientState::Kind;

std::vector<RecipientState> Sample(size_t n) {
  std::vector<RecipientState> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back({static_cast<StateKind>(i % 3), static_cast<uint32_t>(i + 7),
                   1800000000000000 + static_cast<int64_t>(i)});
  }
  return out;
}

TEST(StateListTest, CountConstructorGivesPendingStates) {
  for (size_t n : {0u, 1u, 2u, 5u}) {
    StateList list(n);
    EXPECT_EQ(list.size(), n);
    EXPECT_EQ(list.ToVector(), std::vector<RecipientState>(n));
  }
  EXPECT_EQ(StateList().size(), 0u);
  EXPECT_TRUE(StateList().span().empty());
}

TEST(StateListTest, HoldsWhatItWasGivenAndSetChangesOne) {
  for (size_t n : {0u, 1u, 2u, 3u, 40u}) {
    std::vector<RecipientState> want = Sample(n);
    StateList list(want);
    ASSERT_EQ(list.size(), n);
    EXPECT_EQ(list.ToVector(), want);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(list[i], want[i]);
      EXPECT_EQ(list.span()[i], want[i]);
    }
    for (size_t i = 0; i < n; ++i) {
      want[i] = {StateKind::kFailed, 99, -static_cast<int64_t>(i)};
      list.Set(i, want[i]);
      EXPECT_EQ(list.ToVector(), want);
    }
  }
}

TEST(StateListTest, OneStateWithAnyKindStaysInline) {
  // Every kind the decoder accepts, and the largest retry count, keep the inline form apart
  // from the array form.
  for (StateKind kind : {StateKind::kPending, StateKind::kDone, StateKind::kFailed}) {
    const RecipientState st{kind, UINT32_MAX, INT64_MIN};
    StateList list(std::vector<RecipientState>{st});
    EXPECT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0], st);
    list.Set(0, RecipientState{});
    EXPECT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0], RecipientState{});
  }
}

TEST(StateListTest, CopiesAreDeepAndMovesEmptyTheSource) {
  for (size_t n : {1u, 4u}) {
    const std::vector<RecipientState> want = Sample(n);
    StateList a(want);
    StateList b(a);
    b.Set(0, {StateKind::kDone, 1, 2});
    EXPECT_EQ(a.ToVector(), want);  // the copy has its own storage
    StateList c;
    c = a;
    EXPECT_EQ(c.ToVector(), want);
    const StateList& same = c;
    c = same;  // self-assignment keeps it
    EXPECT_EQ(c.ToVector(), want);
    StateList d(std::move(c));
    EXPECT_EQ(d.ToVector(), want);
    EXPECT_EQ(c.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
    StateList e(3);
    e = std::move(d);
    EXPECT_EQ(e.ToVector(), want);
    EXPECT_EQ(d.size(), 0u);  // NOLINT(bugprone-use-after-move)
    e = StateList(2);
    EXPECT_EQ(e.ToVector(), std::vector<RecipientState>(2));
  }
}

}  // namespace
}  // namespace ec::spool
