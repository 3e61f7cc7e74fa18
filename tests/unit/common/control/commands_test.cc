#include "common/control/commands.h"

#include <gtest/gtest.h>

namespace ec::control {
namespace {

Handler Noop() {
  return [](const Request&, Reply reply) { reply.Ok(""); };
}

TEST(CommandRegistry, LongestPhraseWins) {
  CommandRegistry registry;
  ASSERT_TRUE(registry.Register("show", "show things", Noop()).ok());
  ASSERT_TRUE(registry.Register("show cluster membership", "members", Noop()).ok());
  ASSERT_TRUE(registry.Register("show cluster", "cluster", Noop()).ok());

  auto m = registry.Find("show cluster membership  now please");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request.command, "show cluster membership");
  EXPECT_EQ(m->request.args, "now please");
  EXPECT_EQ(m->request.arg_words, (std::vector<std::string>{"now", "please"}));

  m = registry.Find("  SHOW  Cluster Members");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request.command, "show cluster");
  EXPECT_EQ(m->request.args, "Members");

  m = registry.Find("show");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request.command, "show");
  EXPECT_EQ(m->request.args, "");
  EXPECT_TRUE(m->request.arg_words.empty());

  EXPECT_FALSE(registry.Find("showx cluster"));
  EXPECT_FALSE(registry.Find("cluster show"));
  EXPECT_FALSE(registry.Find(""));
}

TEST(CommandRegistry, ArgumentsKeepInnerSpacing) {
  CommandRegistry registry;
  ASSERT_TRUE(registry.Register("unicast", "", Noop()).ok());
  auto m = registry.Find("unicast node2 config   reload\t");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->request.args, "node2 config   reload");
}

TEST(CommandRegistry, RejectsDuplicatesAndBadPhrases) {
  CommandRegistry registry;
  ASSERT_TRUE(registry.Register("config reload", "", Noop()).ok());
  Status dup = registry.Register("Config  Reload", "", Noop());
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.Register("", "", Noop()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register("bad/word", "", Noop()).code(), StatusCode::kInvalidArgument);
}

TEST(CommandRegistry, HelpListsCommandsSorted) {
  CommandRegistry registry;
  ASSERT_TRUE(registry.Register("summary", "queue and connection counts", Noop()).ok());
  ASSERT_TRUE(registry.Register("config reload", "re-read the configuration", Noop()).ok());
  EXPECT_EQ(registry.HelpText(),
            "  config reload  re-read the configuration\n"
            "  summary        queue and connection counts\n");
}

TEST(CommandRegistry, SyncHandlerMapsResultToReply) {
  CommandRegistry registry;
  ASSERT_TRUE(registry
                  .RegisterSync("double", "",
                                [](const Request& r) -> Result<std::string> {
                                  if (r.args.empty()) return InvalidArgument("need a word");
                                  return r.args + r.args;
                                })
                  .ok());
  std::vector<Response> got;
  Reply::Sink sink = [&](Response r) { got.push_back(r); };
  auto m = registry.Find("double ab");
  (*m->handler)(m->request, Reply(sink));
  m = registry.Find("double");
  (*m->handler)(m->request, Reply(sink));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(got[0].text, "abab");
  EXPECT_FALSE(got[1].ok);
  EXPECT_EQ(got[1].text, "need a word");
}

TEST(Reply, FirstAnswerWinsAndDroppedReplyIsAnError) {
  std::vector<Response> got;
  {
    Reply reply([&](Response r) { got.push_back(r); });
    Reply copy = reply;
    copy.Ok("first");
    reply.Error("second");
    EXPECT_TRUE(reply.answered());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].text, "first");
  {
    Reply forgotten([&](Response r) { got.push_back(r); });
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1].ok);
  EXPECT_NE(got[1].text.find("no reply"), std::string::npos);
}

}  // namespace
}  // namespace ec::control
