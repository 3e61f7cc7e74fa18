// The pull hooks: the search path the validator hands ecmta, the real `ecmta --check-config`
// over a checkout (skipped if ecmta is not built), and the control-socket reloader when no ecmta
// runs. The reloader against a running ecmta is in tests/integration/config.
#include "eccfg/hooks.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/unit/ecconfigd/test_util.h"

namespace ec::eccfg {
namespace {
namespace fs = std::filesystem;
using test::WriteFile;

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("eccfg_hooks");
    ASSERT_FALSE(dir_.empty());
    ::unsetenv("EC_CONF_SEARCH_PATH");
  }
  void TearDown() override {
    ::unsetenv("EC_CONF_SEARCH_PATH");
    fs::remove_all(dir_);
  }

  EcmtaCheck Check() {
    EcmtaCheck check;
    check.root = dir_;
    check.wc = dir_ / "etc/conf";
    check.node_name = "n1";
    return check;
  }

  // The ecmta built beside this test, or empty.
  fs::path Ecmta() {
    const char* bin = std::getenv("EC_BINARY_DIR");
    fs::path p = fs::path(bin != nullptr ? bin : "build") / "mta/daemon/ecmta";
    return fs::exists(p) ? p : fs::path();
  }

  fs::path dir_;
};

TEST_F(HooksTest, DefaultSearchPathMovesIntoTheCheckout) {
  fs::path checkout = dir_ / "etc/conf.0123456789ab.abcdefgh";
  std::vector<std::string> expected = {(dir_ / "etc").string(), (checkout / "global").string(),
                                       (checkout / "n1").string(), (checkout / "default").string()};
  EXPECT_EQ(SearchPathOver(Check(), checkout), expected);
}

TEST_F(HooksTest, EnvironmentSearchPathIsHonoured) {
  fs::path checkout = dir_ / "etc/conf.x";
  std::string env =
      "/srv/extra:" + (dir_ / "etc/conf/special").string() + ":" + (dir_ / "etc/conf").string();
  ::setenv("EC_CONF_SEARCH_PATH", env.c_str(), 1);
  std::vector<std::string> expected = {"/srv/extra", (checkout / "special").string(),
                                       checkout.string()};
  EXPECT_EQ(SearchPathOver(Check(), checkout), expected);
}

TEST_F(HooksTest, EcmtaCheckConfigJudgesTheCheckoutNotTheLiveCopy) {
  fs::path ecmta = Ecmta();
  if (ecmta.empty()) GTEST_SKIP() << "ecmta is not built (target ecmta)";
  EcmtaCheck check = Check();
  check.ecmta = ecmta;
  // The live copy is broken; the checkout under test is fine, then broken two ways.
  WriteFile(dir_ / "etc/conf.live/default/ecelerity.conf", "no_such_option = 1\n");
  fs::create_directory_symlink("conf.live", dir_ / "etc/conf");
  fs::path checkout = dir_ / "etc/conf.next";
  WriteFile(checkout / "default/ecelerity.conf", "spool_mode = \"0640\"\n");
  Validator validate = EcmtaValidator(check);
  auto ok = validate(checkout);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->exit_code, 0) << ok->output;
  EXPECT_NE(ok->output.find("configuration OK"), std::string::npos) << ok->output;

  WriteFile(checkout / "n1/ecelerity.conf", "no_such_option = 1\n");
  auto unknown = validate(checkout);
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->exit_code, 0);
  EXPECT_NE(unknown->output.find("n1/ecelerity.conf:1"), std::string::npos) << unknown->output;
  EXPECT_NE(unknown->output.find("no_such_option"), std::string::npos) << unknown->output;

  WriteFile(checkout / "n1/ecelerity.conf", "server_max_file_descriptors = lots\n");
  auto wrong_type = validate(checkout);
  ASSERT_TRUE(wrong_type.ok());
  EXPECT_NE(wrong_type->exit_code, 0) << wrong_type->output;
  EXPECT_NE(wrong_type->output.find("n1/ecelerity.conf:1"), std::string::npos)
      << wrong_type->output;
}

TEST_F(HooksTest, MissingEcmtaIsAnErrorNotAPass) {
  EcmtaCheck check = Check();
  check.ecmta = dir_ / "no-such-ecmta";
  WriteFile(dir_ / "etc/conf.next/default/ecelerity.conf", "\n");
  auto r = EcmtaValidator(check)(dir_ / "etc/conf.next");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no-such-ecmta"), std::string::npos);
}

TEST_F(HooksTest, ReloadWithoutARunningEcmtaIsNotAFailure) {
  git_oid rev{};
  auto r = ControlReloader((dir_ / "run/ec_console.sock").string())(dir_ / "etc/conf", rev);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_NE(r->output.find("not running"), std::string::npos);
  // Nobody listens on a socket file left behind.
  WriteFile(dir_ / "run/stale.sock", "");
  auto stale = ControlReloader((dir_ / "run/stale.sock").string())(dir_ / "etc/conf", rev);
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->ok()) << stale->output;
}

TEST_F(HooksTest, ShellHooksSeeTheirEnvironment) {
  fs::path out = dir_ / "out";
  fs::create_directories(dir_ / "etc");  // the reload hook runs in <wc>/..
  git_oid rev{};
  rev.id[0] = 0xab;
  auto r = ShellReloader("echo \"$EC_CONF_DIR $EC_CONF_REVISION\" > " + out.string())(
      dir_ / "etc/conf", rev);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(test::ReadFile(out),
            (dir_ / "etc/conf").string() + " ab" + std::string(38, '0') + "\n");
  auto v = ShellValidator("test \"$EC_CONF_DIR\" = \"$PWD\"")(dir_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok()) << v->output;
}

}  // namespace
}  // namespace ec::eccfg
