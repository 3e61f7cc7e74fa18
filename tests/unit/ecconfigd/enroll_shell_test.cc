// The printed enrolment command: ShellQuote keeps every byte of a value as data for POSIX sh
// (checked by running /bin/sh on it), and FormatEnrolShellCommand quotes --manager and
// --node-root wherever they appear.
#include "ecconfigd/enroll_shell.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <string>

namespace ec::ecconfigd {
namespace {

// What /bin/sh makes of `word` as printf's argument.
std::string ThroughSh(const std::string& word) {
  std::string command = "printf '%s' " + word;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return "<popen failed>";
  std::string out;
  char buf[256];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "<sh failed>";
  return out;
}

TEST(ShellQuoteTest, PlainWordsStayAsTheyAre) {
  for (const char* s : {"/opt/ecmta", "mgr.example.com:2027", "a_b-c@d%e+f=g,h"}) {
    EXPECT_EQ(ShellQuote(s), s);
  }
}

TEST(ShellQuoteTest, EverythingElseIsSingleQuoted) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("/opt/my ecmta"), "'/opt/my ecmta'");
  EXPECT_EQ(ShellQuote("$(reboot)"), "'$(reboot)'");
  EXPECT_EQ(ShellQuote("`id`"), "'`id`'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote("a\"b"), "'a\"b'");
}

TEST(ShellQuoteTest, ShReadsBackTheSameBytes) {
  const std::string cases[] = {"",
                               "plain",
                               "two words",
                               "  lead and trail  ",
                               "single ' quote",
                               "''",
                               "double \" quote",
                               "$HOME ${HOME} $(id) $((1+1))",
                               "`id` and \\` backslash",
                               "back\\slash\\",
                               "glob * ? [a] ~ ~root",
                               "semi; amp & pipe | redirect > < # comment",
                               "tab\there\nnewline",
                               "!bang !! ^caret",
                               "\x7f del and \xc3\xa9 utf-8"};
  for (const std::string& s : cases) {
    EXPECT_EQ(ThroughSh(ShellQuote(s)), s) << ShellQuote(s);
  }
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  EXPECT_EQ(ThroughSh(ShellQuote(all_bytes)), all_bytes);
}

TEST(EnrolShellCommandTest, DefaultsPrintAsBefore) {
  EXPECT_EQ(FormatEnrolShellCommand({.token = "0f1e",
                                     .pin = "sha256//AbC+/=",
                                     .manager = "mgr:2027",
                                     .node = "node2",
                                     .node_root = "/opt/ecmta"}),
            "T=0f1e; curl --fail -sS -k --pinnedpubkey 'sha256//AbC+/=' "
            "'https://mgr:2027/clone/node2?token='\"$T\" | tar xz -C /opt/ecmta && "
            "ECCFG_ENROL_TOKEN=$T /opt/ecmta/bin/eccfg enrol --root /opt/ecmta");
}

TEST(EnrolShellCommandTest, ManagerAndRootAreQuoted) {
  EXPECT_EQ(
      FormatEnrolShellCommand({.token = "0f1e",
                               .pin = "sha256//x",
                               .manager = "m`id`:$(reboot)",
                               .node = "node2",
                               .node_root = "/srv/my 'root'"}),
      "T=0f1e; curl --fail -sS -k --pinnedpubkey 'sha256//x' "
      "'https://m`id`:$(reboot)/clone/node2?token='\"$T\" | tar xz -C '/srv/my '\\''root'\\'''"
      " && ECCFG_ENROL_TOKEN=$T '/srv/my '\\''root'\\''/bin/eccfg' enrol --root "
      "'/srv/my '\\''root'\\'''");
}

}  // namespace
}  // namespace ec::ecconfigd
