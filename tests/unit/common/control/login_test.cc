// The console login line: what ParseLogin accepts, and that its errors never echo the password.
#include "common/control/login.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ec::control {
namespace {

TEST(LoginTest, UserAndPasswordWithBlanks) {
  auto login = ParseLogin("login admin s3cret with  blanks ");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->user, "admin");
  EXPECT_EQ(login->password, "s3cret with  blanks ");
  auto upper = ParseLogin("  LOGIN\tops.team@x  pw");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->user, "ops.team@x");
  EXPECT_EQ(upper->password, " pw") << "exactly one blank separates user and password";
  EXPECT_EQ(FormatLogin("admin", "a b"), "login admin a b");
  EXPECT_EQ(ParseLogin(FormatLogin("admin", "a b"))->password, "a b");
}

TEST(LoginTest, RecognisesOnlyTheLoginVerb) {
  EXPECT_TRUE(IsLoginLine("login"));
  EXPECT_TRUE(IsLoginLine(" Login x y"));
  EXPECT_FALSE(IsLoginLine("logins x y"));
  EXPECT_FALSE(IsLoginLine("log in"));
  EXPECT_FALSE(IsLoginLine("summary"));
  EXPECT_FALSE(IsLoginLine(""));
}

TEST(LoginTest, MalformedLinesAreRefusedWithoutEchoingThePassword) {
  for (const std::string& line : std::vector<std::string>{
           "login", "login admin", "login admin ", "login  ", "summary x y",
           "login ad;min secretpw", "login " + std::string(65, 'u') + " secretpw",
           "login admin " + std::string(1025, 'p'), std::string("login admin secret\0pw", 21)}) {
    auto login = ParseLogin(line);
    EXPECT_FALSE(login.ok()) << line;
    EXPECT_EQ(login.status().message().find("secret"), std::string::npos)
        << login.status().message();
  }
}

}  // namespace
}  // namespace ec::control
