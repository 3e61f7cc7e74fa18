// The pull hooks: the search path the validator hands ecmta, the real `ecmta --check-config`
// over a checkout (skipped if ecmta is not built), the kept check server of pull --watch (same
// verdicts, restarts, fallback), and the control-socket reloader when no ecmta runs. The reloader
// against a running ecmta is in tests/integration/config.
#include "eccfg/hooks.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include "eccfg/check_server.h"
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

// pull --watch's kept `ecmta --check-config-server` must judge exactly as the forked check:
// the same exit code and the same output, byte for byte, for good and bad checkouts.
TEST_F(HooksTest, KeptCheckServerJudgesExactlyAsTheForkedCheck) {
  fs::path ecmta = Ecmta();
  if (ecmta.empty()) GTEST_SKIP() << "ecmta is not built (target ecmta)";
  EcmtaCheck check = Check();
  check.ecmta = ecmta;
  Validator forked = EcmtaValidator(check);
  check.keep_server = true;
  Validator kept = EcmtaValidator(check);
  fs::create_directories(dir_ / "etc");
  fs::path checkout = dir_ / "etc/conf.next";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"default/ecelerity.conf", "spool_mode = \"0640\"\n"},
      {"n1/ecelerity.conf", "no_such_option = 1\n"},
      {"n1/ecelerity.conf", "server_max_file_descriptors = lots\n"},
      {"n1/ecelerity.conf", "include \"missing.conf\"\n"},
      {"n1/ecelerity.conf", "Domain \"a.test\" { EHLO_Hostname = \"x\" }\n"},
  };
  int refused = 0;
  for (const auto& [file, text] : cases) {
    WriteFile(checkout / file, text);
    auto a = forked(checkout);
    auto b = kept(checkout);
    ASSERT_TRUE(a.ok() && b.ok()) << text;
    EXPECT_EQ(a->exit_code, b->exit_code) << text << a->output << b->output;
    EXPECT_EQ(a->output, b->output) << text;
    refused += a->exit_code != 0;
  }
  EXPECT_EQ(refused, 3);
  // A directory that cannot be entered: the same refusal too (126, as RunProgram's chdir).
  auto a = forked(dir_ / "etc/conf.gone");
  auto b = kept(dir_ / "etc/conf.gone");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->exit_code, b->exit_code);
  EXPECT_NE(b->exit_code, 0);
}

TEST_F(HooksTest, KeptCheckServerIsReusedAndRestartedAfterItDies) {
  fs::path ecmta = Ecmta();
  if (ecmta.empty()) GTEST_SKIP() << "ecmta is not built (target ecmta)";
  fs::path checkout = dir_ / "etc/conf.next";
  WriteFile(checkout / "default/ecelerity.conf", "\n");
  config::CheckRequest request{checkout.string(),
                               checkout.string(),
                               "ecelerity.conf",
                               dir_.string(),
                               "n1",
                               (checkout / "default").string()};
  CheckServer server(ecmta);
  EXPECT_EQ(server.pid(), -1);
  auto first = server.Check(request);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->exit_code, 0) << first->output;
  pid_t pid = server.pid();
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(server.Check(request).ok());
  EXPECT_EQ(server.pid(), pid);
  ::kill(pid, SIGKILL);
  // The dead server is noticed (the caller falls back for this check), then replaced.
  EXPECT_FALSE(server.Check(request).ok());
  EXPECT_EQ(server.pid(), -1);
  auto again = server.Check(request);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->exit_code, 0);
  EXPECT_GT(server.pid(), 0);
  EXPECT_NE(server.pid(), pid);
}

// An ecmta without --check-config-server: every check still runs, as `ecmta --check-config`;
// the server is not tried again until the binary changes.
TEST_F(HooksTest, EcmtaWithoutCheckServerFallsBackToTheForkedCheck) {
  fs::path fake = dir_ / "bin/ecmta";
  fs::path log = dir_ / "calls";
  auto write_fake = [&](const std::string& verdict) {
    WriteFile(fake, "#!/bin/sh\necho \"$1\" >> " + log.string() +
                        "\ncase \"$1\" in --check-config) echo " + verdict +
                        "; exit 1;; esac\necho 'unknown option' >&2; exit 1\n");
    fs::permissions(fake, fs::perms::owner_all);
  };
  write_fake("checked-once");
  EcmtaCheck check = Check();
  check.ecmta = fake;
  check.keep_server = true;
  Validator kept = EcmtaValidator(check);
  fs::create_directories(dir_ / "etc/conf.next");
  auto r = kept(dir_ / "etc/conf.next");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->output, "checked-once\n");
  ASSERT_TRUE(kept(dir_ / "etc/conf.next").ok());
  EXPECT_EQ(test::ReadFile(log), "--check-config-server\n--check-config\n--check-config\n");
  write_fake("checked-after-upgrade");  // a different size: another binary
  auto after = kept(dir_ / "etc/conf.next");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->output, "checked-after-upgrade\n");
  EXPECT_EQ(test::ReadFile(log),
            "--check-config-server\n--check-config\n--check-config\n"
            "--check-config-server\n--check-config\n");
}

TEST_F(HooksTest, MissingEcmtaIsAnErrorNotAPass) {
  EcmtaCheck check = Check();
  check.ecmta = dir_ / "no-such-ecmta";
  WriteFile(dir_ / "etc/conf.next/default/ecelerity.conf", "\n");
  for (bool keep_server : {false, true}) {
    check.keep_server = keep_server;
    auto r = EcmtaValidator(check)(dir_ / "etc/conf.next");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("no-such-ecmta"), std::string::npos);
  }
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
