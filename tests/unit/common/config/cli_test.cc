// The ec_conf command line, run as a user would: exit codes and what it prints.
#include <stdio.h>
#include <sys/wait.h>

#include <array>

#include "common/config/reference.h"
#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CliRun EcConf(const std::string& args) {
  std::string cmd = std::string(EC_CONF_BINARY) + " " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  EC_CHECK(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conf_ =
        dir_.Write("e.conf",
                   "Binding_Group \"g\" {\n"
                   "  Binding \"b1\" { Domain \"example.com\" { max_outbound_connections = 8 } }\n"
                   "}\n"
                   "ESMTP_Listener { Listen \"*:25\" { Peer \"10.0.0.0/8\" {\n"
                   "  relay_hosts = ( \"10.0.0.0/8\" ) } } }\n");
  }
  TempDir dir_;
  std::string conf_;
};

TEST_F(CliTest, HelpAndUnknownCommands) {
  CliRun r = EcConf("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("usage: ec_conf <command>"));
  r = EcConf("eval --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("--binding-group"));
  r = EcConf("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("unknown command 'frobnicate'"));
  r = EcConf("check --bogus");
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, CheckExitCodes) {
  CliRun r = EcConf("check --config " + conf_ + " --search-path " + dir_.path().string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "configuration OK (1 files)\n");
  std::string bad = dir_.Write("bad.conf", "tls = maybe\n");
  r = EcConf("check --config " + bad);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr(bad + ":1:7: error: option 'tls' (enum)"));
}

TEST_F(CliTest, EvalPrintsValueAndOrigin) {
  CliRun r = EcConf("eval --config " + conf_ +
                    " --binding b1 --domain example.com "
                    "max_outbound_connections");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "max_outbound_connections = 8\n  from " + conf_ +
                          ":2:41 (binding_group \"g\" > binding \"b1\" > domain "
                          "\"example.com\")\n");
  r = EcConf("eval --config " + conf_ + " --listen '*:25' --peer 10.2.3.4 relay_hosts --yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output,
              HasSubstr("relay_hosts:\n  value:\n    - \"10.0.0.0/8\"\n  from: " + conf_ + ":5:3"));
  r = EcConf("eval --config " + conf_ + " retry_interval");
  EXPECT_THAT(r.output, HasSubstr("retry_interval = 1200\n  from the default"));
  r = EcConf("eval --config " + conf_ + " no_such_option");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("unknown option 'no_such_option'"));
}

TEST_F(CliTest, YamlTreeAndResolved) {
  CliRun r = EcConf("yaml --config " + conf_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("type: binding_group"));
  r = EcConf("yaml --config " + conf_ + " --resolved --binding b1 --domain example.com");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("max_outbound_connections:\n  value: 8\n"));
  EXPECT_THAT(r.output, HasSubstr("retry_interval:\n  value: 1200\n  from: default"));
}

TEST_F(CliTest, OptionsMarkdownIsTheGeneratedReference) {
  CliRun r = EcConf("options --markdown");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.output == GenerateMarkdownReference(DefaultSchema()));
}

}  // namespace
}  // namespace ec::config
