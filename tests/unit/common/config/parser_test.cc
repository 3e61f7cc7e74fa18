// Grammar of the ecelerity.conf language and every syntax error message.
#include "common/config/parser.h"

#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Parse;

std::vector<std::string> SyntaxErrors(const std::string& text) {
  Diagnostics diags;
  Parse(text, &diags);
  return testing::Messages(diags);
}

TEST(ParserTest, OptionsKeepLowerCaseNameSpellingAndLocation) {
  Diagnostics diags;
  auto c = Parse("\n  Max_Outbound_Connections = 32\n", &diags);
  ASSERT_TRUE(diags.empty()) << testing::Messages(diags)[0];
  ASSERT_EQ(c->root.options.size(), 1u);
  const Option& o = c->root.options[0];
  EXPECT_EQ(o.name, "max_outbound_connections");
  EXPECT_EQ(o.spelling, "Max_Outbound_Connections");
  EXPECT_EQ(o.location.ToString(), "t.conf:2:3");
  EXPECT_EQ(o.value.text(), "32");
  EXPECT_FALSE(o.value.quoted());
  EXPECT_EQ(o.value.location().ToString(), "t.conf:2:30");
}

TEST(ParserTest, CommentsHashAndBlockDoNotNest) {
  Diagnostics diags;
  auto c = Parse(
      "a = 1 # trailing\n"
      "# whole line\n"
      "/* block /* not nested */ b = 2\n"
      "c = x/*inline*/\n",
      &diags);
  ASSERT_TRUE(diags.empty());
  ASSERT_EQ(c->root.options.size(), 3u);
  EXPECT_EQ(c->root.options[1].name, "b");
  EXPECT_EQ(c->root.options[2].value.text(), "x");
}

TEST(ParserTest, QuotedStringsAndEscapes) {
  Diagnostics diags;
  auto c = Parse(
      "a = \"x y\\\"z\\\\\\n\\t\"\n"
      "b = 'single \"q\"'\n"
      "c = \"/^.*\\.example\\.com$/\"\n"
      "d = \"\"\n",
      &diags);
  ASSERT_TRUE(diags.empty()) << testing::Messages(diags)[0];
  EXPECT_EQ(c->root.FindOption("a")->value.text(), "x y\"z\\\n\t");
  EXPECT_TRUE(c->root.FindOption("a")->value.quoted());
  EXPECT_EQ(c->root.FindOption("b")->value.text(), "single \"q\"");
  // Unknown escapes survive, so regexes keep their backslashes.
  EXPECT_EQ(c->root.FindOption("c")->value.text(), "/^.*\\.example\\.com$/");
  EXPECT_EQ(c->root.FindOption("d")->value.text(), "");
}

TEST(ParserTest, ListsAndDictionariesNest) {
  Diagnostics diags;
  auto c = Parse(
      "relay_hosts = ( \"127.0.0.0/8\" 10.0.0.0/24 )\n"
      "empty = ( )\n"
      "logs = [ mainlog = \"/var/log/m\" k2 = ( x y ) inner = [ a = b ] ]\n",
      &diags);
  ASSERT_TRUE(diags.empty()) << testing::Messages(diags)[0];
  const Value& list = c->root.FindOption("relay_hosts")->value;
  ASSERT_TRUE(list.is_list());
  EXPECT_THAT(*list.AsStringList(), ElementsAre("127.0.0.0/8", "10.0.0.0/24"));
  EXPECT_TRUE(c->root.FindOption("empty")->value.items().empty());
  const Value& dict = c->root.FindOption("logs")->value;
  ASSERT_TRUE(dict.is_dict());
  EXPECT_EQ(dict.Find("mainlog")->text(), "/var/log/m");
  EXPECT_THAT(*dict.Find("k2")->AsStringList(), ElementsAre("x", "y"));
  EXPECT_EQ(dict.Find("inner")->Find("a")->text(), "b");
  EXPECT_EQ(dict.Find("missing"), nullptr);
}

TEST(ParserTest, NamedSingletonAndNestedScopes) {
  Diagnostics diags;
  auto c = Parse(
      "ESMTP_Listener {\n"
      "  Listen \":25\" {\n"
      "    Peer \"10.0.0.0/8\" { relay = true }\n"
      "  }\n"
      "}\n"
      "Binding_Group \"g\" { Binding b1 { Domain \"example.com\" { } } }\n"
      "ec_logger \"ec_logger_cluster\" { }\n"
      "cluster { }\n",
      &diags);
  ASSERT_TRUE(diags.empty()) << testing::Messages(diags)[0];
  ASSERT_EQ(c->root.children.size(), 4u);
  const Scope& l = c->root.children[0];
  EXPECT_EQ(l.type, "esmtp_listener");
  EXPECT_EQ(l.spelling, "ESMTP_Listener");
  EXPECT_FALSE(l.name.has_value());
  const Scope& listen = l.children[0];
  EXPECT_EQ(listen.type, "listen");
  EXPECT_EQ(*listen.name, ":25");
  EXPECT_EQ(listen.Label(), "Listen \":25\"");
  EXPECT_EQ(listen.children[0].location.ToString(), "t.conf:3:5");
  const Scope& binding = c->root.children[1].children[0];
  EXPECT_EQ(*binding.name, "b1");  // a bare word names a scope too
  EXPECT_EQ(*binding.children[0].name, "example.com");
  EXPECT_EQ(*c->root.children[2].name, "ec_logger_cluster");
}

TEST(ParserTest, UnterminatedStringAndComment) {
  EXPECT_THAT(SyntaxErrors("a = \"abc\nb = 1\n"),
              ElementsAre("t.conf:1:5: error: unterminated string: missing closing \""));
  EXPECT_THAT(SyntaxErrors("a = 1\n/* never closed\nb = 2\n"),
              ElementsAre("t.conf:2:1: error: unterminated comment: '/*' has no matching '*/'"));
}

TEST(ParserTest, MissingAndStrayBraces) {
  EXPECT_THAT(SyntaxErrors("Domain \"x\" {\n  a = 1\n"),
              ElementsAre("t.conf:3:1: error: missing '}' to close Domain \"x\" opened at "
                          "t.conf:1:12"));
  EXPECT_THAT(SyntaxErrors("a = 1\n}\n"),
              ElementsAre("t.conf:2:1: error: unexpected '}' with no open scope"));
}

TEST(ParserTest, MissingListAndDictClosers) {
  EXPECT_THAT(SyntaxErrors("a = ( x y\n"),
              ElementsAre("t.conf:2:1: error: missing ')' to close the list opened at t.conf:1:5"));
  EXPECT_THAT(SyntaxErrors("a = [ k = v\n"),
              ElementsAre("t.conf:2:1: error: missing ']' to close the dictionary opened at "
                          "t.conf:1:5"));
  EXPECT_THAT(SyntaxErrors("a = [ k v ]\n"),
              ElementsAre("t.conf:1:9: error: expected '=' after dictionary key 'k', found word "
                          "'v'"));
  EXPECT_THAT(SyntaxErrors("a = [ ( ) = v ]\n"),
              ElementsAre("t.conf:1:7: error: expected a dictionary key, found '('"));
}

TEST(ParserTest, StrayTokensAndMissingEquals) {
  // Momentum requires '=' between an option and its value.
  EXPECT_THAT(SyntaxErrors("max_outbound_connections 32\n"),
              ElementsAre("t.conf:1:26: error: expected '=' or '{' after "
                          "'max_outbound_connections', found word '32'"));
  EXPECT_THAT(SyntaxErrors("a = }\n"),
              ElementsAre("t.conf:1:5: error: expected a value (word, quoted string, list or "
                          "dictionary), found '}'"));
  EXPECT_THAT(SyntaxErrors("\"quoted\" = 1\n"),
              ElementsAre("t.conf:1:1: error: expected an option or scope name, found quoted "
                          "string \"quoted\""));
  EXPECT_THAT(SyntaxErrors("a;b = 1\n"),
              ElementsAre("t.conf:1:1: error: invalid name 'a;b': names use letters, digits, "
                          "'_', '-' and '.'"));
}

TEST(ParserTest, ReportsEveryErrorAndRecoversAtTheNextLine) {
  Diagnostics diags;
  auto c = Parse("a = \nb 1\nc = 3\n= 4\nd = 5\n", &diags);
  // "a = b" parses (the value may be on the next line); then "1" is stray, "= 4" is stray.
  EXPECT_EQ(diags.size(), 2u) << ::testing::PrintToString(testing::Messages(diags));
  EXPECT_NE(c->root.FindOption("c"), nullptr);
  EXPECT_NE(c->root.FindOption("d"), nullptr);
}

TEST(ParserTest, NestingLimitStopsDeepInput) {
  std::vector<std::string> errors = SyntaxErrors("x = " + std::string(100, '(') + "\n");
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("nesting deeper than 64 levels"));
  std::string scopes;
  for (int i = 0; i < 70; ++i) scopes += "s {";
  errors = SyntaxErrors(scopes);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("t.conf:1:195: error: nesting deeper than 64 levels"));
}

TEST(ParserTest, IncludeRefusedWhenDisabled) {
  EXPECT_THAT(SyntaxErrors("include \"x.conf\"\n"),
              ElementsAre("t.conf:1:1: error: include is not allowed here (includes are "
                          "disabled)"));
}

TEST(ParserTest, ParseValueText) {
  auto v = ParseValueText("( a \"b c\" )", "<arg>");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->ToConfigText(), "( a \"b c\" )");
  EXPECT_FALSE(ParseValueText("( a", "<arg>").ok());
  EXPECT_FALSE(ParseValueText("a b", "<arg>").ok());
}

}  // namespace
}  // namespace ec::config
