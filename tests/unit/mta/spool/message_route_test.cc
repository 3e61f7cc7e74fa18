// MessageRoute and RouteTable: the routes the spool's recovery scan keeps for the scheduler.
#include "mta/spool/message_route.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ec::spool {
namespace {

Envelope Env(std::vector<std::string> rcpts, std::string binding = "", std::string group = "") {
  Envelope e;
  for (std::string& r : rcpts) e.rcpts.push_back({std::move(r), "", 0});
  e.binding = std::move(binding);
  e.binding_group = std::move(group);
  return e;
}

TEST(MessageRouteTest, AddressDomainIsAfterTheLastAt) {
  EXPECT_EQ(AddressDomain("user@example.com"), "example.com");
  EXPECT_EQ(AddressDomain("\"a@b\"@Example.COM"), "Example.COM");  // as written
  EXPECT_EQ(AddressDomain("postmaster"), "");
  EXPECT_EQ(AddressDomain("user@"), "");
  EXPECT_EQ(AddressDomain("@"), "");
  EXPECT_EQ(AddressDomain(""), "");
}

TEST(MessageRouteTest, RouteOfKeepsRecipientOrderAndBinding) {
  const MessageRoute r = RouteOf(Env({"a@x.org", "b@Y.org", "local", "c@x.org"}, "b1", "g1"));
  EXPECT_EQ(r.rcpt_domains, (std::vector<std::string>{"x.org", "Y.org", "", "x.org"}));
  EXPECT_EQ(r.binding, "b1");
  EXPECT_EQ(r.binding_group, "g1");
  EXPECT_TRUE(RouteOf(Envelope{}).rcpt_domains.empty());
}

TEST(MessageRouteTest, EqualRoutesShareOneIndex) {
  RouteTable t;
  const uint32_t a = t.Intern(Env({"u1@d1.test"}));
  EXPECT_EQ(t.Intern(Env({"u2@d1.test"})), a);  // only the domain counts
  const uint32_t b = t.Intern(Env({"u1@d2.test"}));
  EXPECT_NE(a, b);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at(a), RouteOf(Env({"x@d1.test"})));
  EXPECT_EQ(t.at(b), RouteOf(Env({"x@d2.test"})));
}

TEST(MessageRouteTest, EveryFieldTellsRoutesApart) {
  RouteTable t;
  const std::vector<Envelope> distinct = {
      Env({"u@d.test"}),
      Env({"u@D.test"}),  // case is kept: the scheduler lower-cases
      Env({"u@d.test"}, "b"),
      Env({"u@d.test"}, "", "b"),  // binding and group are separate fields
      Env({"u@d.test", "v@d.test"}),
      Env({"u@d.test", "v@e.test"}),
      Env({"v@e.test", "u@d.test"}),  // order matters: states follow the recipients
      Env({"u@ab"}),
      Env({"u@a", "v@b"}),  // no concatenation collides
      Env({"u@a", "v@b", "local"}),
      Env({}),
      Env({"local"}),
      Env({"u@"}, std::string("b\0x", 3)),
      Env({"u@"}, "b"),
  };
  std::vector<uint32_t> ids;
  for (const Envelope& e : distinct) ids.push_back(t.Intern(e));
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_NE(ids[i], RouteTable::kNone) << i;
    EXPECT_EQ(t.at(ids[i]), RouteOf(distinct[i])) << i;
    for (size_t j = 0; j < i; ++j) EXPECT_NE(ids[i], ids[j]) << i << " " << j;
  }
  EXPECT_EQ(t.size(), distinct.size());
  // Asked again, each gets its own index back.
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(t.Intern(distinct[i]), ids[i]) << i;
}

TEST(MessageRouteTest, LongRoutesAreNotKept) {
  RouteTable t;
  std::vector<std::string> rcpts;
  // Each recipient adds 4 + 10 bytes to the key; ~300 of them pass kMaxKeyBytes.
  for (int i = 0; i < 300; ++i) rcpts.push_back("u@d" + std::to_string(100000 + i) + ".tst");
  EXPECT_EQ(t.Intern(Env(rcpts)), RouteTable::kNone);
  EXPECT_EQ(t.size(), 0u);
  rcpts.resize(100);
  EXPECT_NE(t.Intern(Env(rcpts)), RouteTable::kNone);
}

TEST(MessageRouteTest, TableIsBoundedButKnownRoutesStillResolve) {
  RouteTable t;
  for (size_t i = 0; i < RouteTable::kMaxRoutes; ++i) {
    ASSERT_EQ(t.Intern(Env({"u@d" + std::to_string(i)})), i);
  }
  EXPECT_EQ(t.Intern(Env({"u@one.more"})), RouteTable::kNone);
  EXPECT_EQ(t.size(), RouteTable::kMaxRoutes);
  EXPECT_EQ(t.Intern(Env({"v@d7"})), 7u);
}

}  // namespace
}  // namespace ec::spool
