// Where eccfg takes the commit password from: a file, the environment, a prompt without echo
// on a terminal (a pseudo-terminal here) -- and a clear refusal when there is none.
#include "eccfg/password_source.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tests/unit/ecconfigd/test_util.h"

namespace ec::eccfg {
namespace {

TEST(PasswordSourceTest, FileThenEnvironmentThenNothing) {
  auto dir = test::MakeTempDir("eccfg_pw");
  test::WriteFile(dir / "pw", "from-file\nignored\n");
  EXPECT_EQ(*ObtainPassword({dir / "pw", "from-env", -1}), "from-file");
  EXPECT_EQ(*ObtainPassword({{}, "from-env", -1}), "from-env");
  auto none = ObtainPassword({{}, std::nullopt, -1});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(none.status().message().find("--password-file"), std::string::npos);
  EXPECT_FALSE(ObtainPassword({dir / "missing", "from-env", -1}).ok());
  std::filesystem::remove_all(dir);
}

TEST(PasswordSourceTest, PromptsWithoutEchoOnATerminal) {
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    GTEST_SKIP() << "no pseudo-terminal available (openpty failed)";
  }
  Result<std::string> pw = std::string();
  std::thread prompt([&] { pw = ObtainPassword({{}, std::nullopt, slave}); });
  // Type only once the prompt shows: echo is off by then.
  std::string shown;
  char buf[256];
  for (int i = 0; i < 100 && shown.find("Password:") == std::string::npos; ++i) {
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;
    shown.append(buf, static_cast<size_t>(n));
  }
  ASSERT_NE(shown.find("Password:"), std::string::npos);
  ASSERT_EQ(::write(master, "typed\n", 6), 6);
  prompt.join();
  ASSERT_TRUE(pw.ok()) << pw.status().ToString();
  EXPECT_EQ(*pw, "typed");
  termios after{};
  ASSERT_EQ(::tcgetattr(slave, &after), 0);
  EXPECT_TRUE(after.c_lflag & ECHO) << "echo must be restored";
  // What the terminal showed after the prompt: a newline (ECHONL), never the password.
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  ssize_t n = ::read(master, buf, sizeof buf);
  if (n > 0) shown.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(shown.find("typed"), std::string::npos) << shown;
  ::close(master);
  ::close(slave);
}

}  // namespace
}  // namespace ec::eccfg
