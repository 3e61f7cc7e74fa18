// Control_Listener -> ServerOptions: the TCP console needs a user file of hashes, with file:line
// when it is missing; file_mode and group reach the unix socket.
#include "common/control/listener_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "tests/unit/common/config/test_util.h"

namespace ec::control {
namespace {

using config::testing::TempDir;

constexpr const char* kHash =
    "$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"
    "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.";

std::shared_ptr<const config::Config> Parse(const std::string& text) {
  config::Diagnostics diags;
  auto c = config::testing::Parse(text, &diags);
  EXPECT_TRUE(diags.empty());
  return c;
}

TEST(ListenerConfigTest, TcpWithoutAuthLoginParametersIsRefusedWithFileAndLine) {
  auto c = Parse(
      "\nControl_Listener {\n  Listen \"/run/x.sock\" { }\n"
      "  Listen \"127.0.0.1:2025\" { }\n}\n");
  auto options = ServerOptionsFromConfig(*c, "/run/default.sock");
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("t.conf:4:"), std::string::npos)
      << options.status().message();
  EXPECT_NE(options.status().message().find("AuthLoginParameters"), std::string::npos);
  std::ostringstream out;
  EXPECT_EQ(CheckControlListener(*c, out), 1);
  EXPECT_NE(out.str().find("t.conf:4:"), std::string::npos) << out.str();
}

TEST(ListenerConfigTest, ADisabledListenIsNotOpened) {
  // Disabled TCP: not opened, so no user file is needed; disabled unix path: the default.
  auto c = Parse(
      "Control_Listener {\n  Listen \"/run/x.sock\" { enable = false }\n"
      "  Listen \"127.0.0.1:2025\" { enable = false }\n}\n");
  auto options = ServerOptionsFromConfig(*c, "/run/default.sock");
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_TRUE(options->tcp_address.empty());
  EXPECT_EQ(options->unix_path, "/run/default.sock");
  auto off = Parse("Control_Listener {\n  enable = false\n  Listen \"127.0.0.1:2025\" { }\n}\n");
  auto listener_off = ServerOptionsFromConfig(*off, "/run/default.sock");
  ASSERT_TRUE(listener_off.ok()) << listener_off.status().message();
  EXPECT_TRUE(listener_off->tcp_address.empty());
}

TEST(ListenerConfigTest, TcpWithAHashedUserFile) {
  TempDir dir;
  std::string users = dir.Write("users", std::string("# console users\nadmin:") + kHash + "\n");
  auto c = Parse("Control_Listener {\n  AuthLoginParameters = [ uri = \"file://" + users +
                 "\" ]\n  Listen \"127.0.0.1:2025\" { }\n}\n");
  auto options = ServerOptionsFromConfig(*c, "/run/default.sock");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->tcp_address, "127.0.0.1:2025");
  EXPECT_EQ(options->unix_path, "/run/default.sock");
  ASSERT_NE(options->tcp_users, nullptr);
  EXPECT_TRUE(options->tcp_users->Check("admin", "s3cret"));
  EXPECT_FALSE(options->tcp_users->Check("admin", "S3cret"));
}

TEST(ListenerConfigTest, CleartextAndMissingUserFilesAreRefused) {
  TempDir dir;
  std::string users = dir.Write("users", std::string("admin:") + kHash + "\nops:cleartext\n");
  auto c = Parse(
      "Control_Listener {\n  Listen \"127.0.0.1:2025\" {\n"
      "    AuthLoginParameters = [ uri = \"file://" +
      users + "\" ]\n  }\n}\n");
  auto options = ServerOptionsFromConfig(*c, "/run/default.sock");
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find(users + ":2:"), std::string::npos)
      << options.status().message();
  EXPECT_EQ(options.status().message().find("cleartext:"), std::string::npos);
  auto missing = Parse("Control_Listener {\n  AuthLoginParameters = [ uri = \"file://" +
                       (dir.path() / "nope").string() + "\" ]\n  Listen \"[::1]:2025\" { }\n}\n");
  EXPECT_FALSE(ServerOptionsFromConfig(*missing, "/x").ok());
}

TEST(ListenerConfigTest, FileModeAndGroupOfTheUnixSocket) {
  auto c = Parse("Control_Listener {\n  group = \"" + std::to_string(getgid()) +
                 "\"\n  Listen \"/run/x.sock\" { File_Mode = \"0640\" }\n}\n");
  auto options = ServerOptionsFromConfig(*c, "/run/default.sock");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->unix_path, "/run/x.sock");
  EXPECT_EQ(options->unix_mode, 0640u);
  EXPECT_EQ(options->unix_group, getgid());
  EXPECT_TRUE(options->tcp_address.empty());

  auto world = Parse("Control_Listener {\n  Listen \"/run/x.sock\" { File_Mode = \"0666\" }\n}\n");
  auto refused = ServerOptionsFromConfig(*world, "/x");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("t.conf:2:"), std::string::npos);
  auto nogroup = Parse("Control_Listener {\n  group = \"ectest-no-such-group\"\n}\n");
  EXPECT_FALSE(ServerOptionsFromConfig(*nogroup, "/x").ok());
  auto defaults = ServerOptionsFromConfig(*Parse(""), "/run/default.sock");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->unix_mode, 0660u);
  EXPECT_EQ(defaults->unix_group, static_cast<gid_t>(-1));
}

}  // namespace
}  // namespace ec::control
