// CheckConfigMain and LoadConfig as daemons and tools call them; the shipped conf/ tree loads
// and validates; docs/config-reference.md matches the generator.
#include "common/config/check.h"

#include <cstdlib>
#include <sstream>

#include "common/config/reference.h"
#include "common/config/resolve.h"
#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

std::string SourceDir() {
  const char* dir = std::getenv("EC_SOURCE_DIR");
  return dir ? dir : ".";
}

LoadOptions ShippedTree() {
  LoadOptions o;
  o.use_environment = false;
  o.search_path = {SourceDir() + "/conf/global", SourceDir() + "/conf/default"};
  return o;
}

TEST(CheckTest, GoodConfigSaysOk) {
  TempDir dir;
  CheckOptions o;
  o.config_path = dir.Write("e.conf", "include \"inc.conf\"\n");
  dir.Write("inc.conf", "max_outbound_connections = 5\n");
  o.load.use_environment = false;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0);
  EXPECT_EQ(out.str(), "configuration OK (2 files)\n");
}

TEST(CheckTest, BadConfigListsEveryProblemInReadingOrderAndFails) {
  TempDir dir;
  CheckOptions o;
  o.config_path = dir.Write("e.conf",
                            "Max_Outbund_Connections = 3\n"
                            "include \"inc.conf\"\n"
                            "tls = maybe\n"
                            "a = \"open\n");
  dir.Write("inc.conf", "ESMTP_Listener { listen_backlog = 0 }\n");
  o.load.use_environment = false;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 1);
  std::string e = o.config_path, inc = (dir.path() / "inc.conf").string();
  EXPECT_EQ(out.str(), e +
                           ":1:1: error: unknown option 'Max_Outbund_Connections' (did you mean "
                           "'max_outbound_connections'?)\n" +
                           e +
                           ":3:7: error: option 'tls' (enum): expected one of: no, ifavailable, "
                           "required, found 'maybe'\n" +
                           e + ":4:1: error: unknown option 'a'\n" + e +
                           ":4:5: error: unterminated string: missing closing \"\n" + inc +
                           ":1:35: error: option 'listen_backlog' (int): value 0 is out of range "
                           "(allowed: 1 to 65535)\n" +
                           e + ": 5 error(s), 0 warning(s)\n");
}

TEST(CheckTest, WarningsPassUnlessTreatedAsErrors) {
  TempDir dir;
  CheckOptions o;
  o.config_path = dir.Write("e.conf", "tls = no\ntls = ifavailable\n");
  o.load.use_environment = false;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0);
  EXPECT_THAT(out.str(), HasSubstr("configuration OK (1 files, 1 warning(s))"));
  o.warnings_as_errors = true;
  EXPECT_EQ(CheckConfigMain(o, out), 1);
}

TEST(CheckTest, OptionsNotActedOnWarnButPass) {
  TempDir dir;
  CheckOptions o;
  o.config_path = dir.Write("e.conf", "hostname = mta1\n  spool_mode = 0600\n");
  o.load.use_environment = false;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0);
  EXPECT_EQ(out.str(), o.config_path +
                           ":2:3: warning: option 'spool_mode' is accepted but not acted on yet "
                           "(docs/config-reference.md: planned)\n"
                           "configuration OK (1 files, 1 warning(s))\n");
  o.warnings_as_errors = true;
  std::ostringstream strict;
  EXPECT_EQ(CheckConfigMain(o, strict), 1);
  EXPECT_THAT(strict.str(), HasSubstr(": 0 error(s), 1 warning(s)"));
}

TEST(CheckTest, EnumValuesNotActedOnWarn) {
  TempDir dir;
  CheckOptions o;
  o.config_path = dir.Write("r.conf",
                            "cluster {\n"
                            "  replicate \"a\" { type = \"OBTM\" }\n"
                            "  replicate \"b\" { type = \"Cache\" }\n"
                            "}\n");
  o.load.use_environment = false;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0);
  EXPECT_EQ(out.str(), o.config_path +
                           ":3:26: warning: option 'type': value 'Cache' is "
                           "accepted but not acted on yet (docs/config-reference.md)\n"
                           "configuration OK (1 files, 1 warning(s))\n");
}

TEST(CheckTest, LoadConfigFailsWithTheFirstError) {
  TempDir dir;
  LoadOptions lo;
  lo.use_environment = false;
  Diagnostics diags;
  auto bad = LoadConfig(dir.Write("b.conf", "x = 1\ny = 2\n"), lo, DefaultSchema(), &diags);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("2 configuration error(s); first: " + (dir.path() / "b.conf").string() +
                        ":1:1: error: unknown option 'x'"));
  EXPECT_EQ(diags.size(), 2u);
  auto good = LoadConfig(dir.Write("g.conf", "hostname = mta1\n"), lo);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*EvalString(**good, {}, "hostname"), "mta1");
}

TEST(CheckTest, ShippedNodeConfigurationLoadsAndValidates) {
  CheckOptions o;
  o.config_path = SourceDir() + "/conf/default/ecelerity.conf";
  o.load = ShippedTree();
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0) << out.str();
  // No warning: every option the shipped node conf sets is acted on (acctlog included).
  EXPECT_EQ(out.str(), "configuration OK (3 files)\n");
  auto c = LoadConfig(o.config_path, o.load);
  ASSERT_TRUE(c.ok()) << c.status().message();
  // The cluster pieces come through the includes.
  ASSERT_EQ((*c)->files.size(), 3u);
  EXPECT_THAT((*c)->files[2], HasSubstr("conf/global/msgc_server.conf"));
  EXPECT_EQ(*EvalString(**c, {}, "spoolbase"), "/opt/ecmta/spool");
  EXPECT_EQ(*EvalInt(**c, {.domain = "example.com"}, "message_expiration"), 604800);
  EXPECT_EQ(*EvalList(**c, {.peer = "127.0.0.1"}, "relay_hosts"),
            std::vector<std::string>{"127.0.0.0/8"});
  EXPECT_FALSE((*c)->root.Children("cluster").empty());
  EXPECT_FALSE((*c)->root.Children("msgc_server").empty());
}

TEST(CheckTest, ShippedManagerConfigurationLoadsAndValidates) {
  CheckOptions o;
  o.config_path = SourceDir() + "/conf/default/eccluster.conf";
  o.load = ShippedTree();
  o.warnings_as_errors = true;
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0) << out.str();
  auto c = LoadConfig(o.config_path, o.load);
  ASSERT_TRUE(c.ok());
  const Scope* logs = (*c)->root.Children("logs").at(0);
  EXPECT_EQ(logs->FindOption("logfile")->value.text(),
            "/opt/ecmta/log/eccluster/%Y/%m/%d/%{l}/%{s}/%{n}");
}

TEST(CheckTest, ShippedTreeFoundThroughTheDefaultSearchPathOfARoot) {
  // A root laid out like a node: <root>/etc/conf/{global,default} is the working copy.
  TempDir root;
  std::filesystem::create_directories(root.path() / "etc");
  std::filesystem::create_directory_symlink(SourceDir() + "/conf", root.path() / "etc/conf");
  CheckOptions o;
  o.config_path = "ecelerity.conf";
  o.load.use_environment = false;
  o.load.root = root.path().string();
  o.load.node_name = "node1";
  std::ostringstream out;
  EXPECT_EQ(CheckConfigMain(o, out), 0) << out.str();
  EXPECT_THAT(out.str(), Not(HasSubstr("error")));
}

TEST(CheckTest, ConfigReferenceDocIsGeneratedFromTheSchema) {
  std::ifstream in(SourceDir() + "/docs/config-reference.md");
  std::stringstream committed;
  committed << in.rdbuf();
  EXPECT_TRUE(committed.str() == GenerateMarkdownReference(DefaultSchema()))
      << "docs/config-reference.md is out of date; regenerate it with:\n"
         "  build/<dir>/common/tools/ec_conf options --markdown > docs/config-reference.md";
}

}  // namespace
}  // namespace ec::config
