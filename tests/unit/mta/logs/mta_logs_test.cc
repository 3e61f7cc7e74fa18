#include "mta/logs/mta_logs.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "mta/logs/console_accounting.h"

namespace ec::mta {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(MtaLogs, WritesEachLogAndSurvivesRotation) {
  char tmpl[] = "/tmp/mta_logs.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  MtaLogPaths paths{.mainlog = dir + "/log/mainlog.ec", .rejectlog = dir + "/log/rejectlog.ec"};
  auto logs = MtaLogs::Open(paths);
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();

  ReceptionRecord r;
  r.time = 100;
  r.message_id = "id1";
  (*logs)->Reception(r);
  (*logs)->Heartbeat(200);
  (*logs)->Panic("unlogged: no paniclog configured");
  EXPECT_EQ(Slurp(paths.mainlog), FormatReception(r) + "\n200@@@@M\n");
  EXPECT_EQ(Slurp(paths.rejectlog), "200: Marker 1\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/log/paniclog.ec"));

  // logrotate: rename, then reopen; new lines go to the new file.
  std::filesystem::rename(paths.mainlog, paths.mainlog + ".1");
  ASSERT_TRUE((*logs)->Reopen().ok());
  (*logs)->Heartbeat(300);
  EXPECT_EQ(Slurp(paths.mainlog), "300@@@@M\n");
  EXPECT_EQ(Slurp(paths.mainlog + ".1"), FormatReception(r) + "\n200@@@@M\n");
  std::filesystem::remove_all(dir);
}

// The console's accounting events land in the acctlog as N and Z records.
TEST(MtaLogs, ConsoleLoginsAndCommandsGoToTheAcctlog) {
  char tmpl[] = "/tmp/mta_logs.XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  MtaLogPaths paths{.acctlog = dir + "/acctlog.ec"};
  auto logs = MtaLogs::Open(paths);
  ASSERT_TRUE(logs.ok()) << logs.status().ToString();
  using Kind = control::AccountingEvent::Kind;
  LogConsoleAccounting(**logs,
                       {.kind = Kind::kAuthentication,
                        .listener = "127.0.0.1:2025",
                        .peer = "127.0.0.1:4000",
                        .user = "alice",
                        .allowed = false},
                       10);
  LogConsoleAccounting(**logs,
                       {.kind = Kind::kAuthentication,
                        .listener = "127.0.0.1:2025",
                        .peer = "127.0.0.1:4000",
                        .user = "alice",
                        .allowed = true},
                       11);
  LogConsoleAccounting(**logs,
                       {.kind = Kind::kAuthorization,
                        .listener = "127.0.0.1:2025",
                        .peer = "127.0.0.1:4000",
                        .user = "alice",
                        .allowed = true,
                        .command = "summary"},
                       12);
  LogConsoleAccounting(**logs,
                       {.kind = Kind::kAuthorization,
                        .listener = "/run/ec_console.sock",
                        .user = "",
                        .allowed = false,
                        .command = "shutdown"},
                       13);
  EXPECT_EQ(Slurp(paths.acctlog),
            "10@N@127.0.0.1:2025@127.0.0.1:4000@alice@0\n"
            "11@N@127.0.0.1:2025@127.0.0.1:4000@alice@1\n"
            "12@Z@127.0.0.1:2025@127.0.0.1:4000@alice@1@summary@\n"
            "13@Z@/run/ec_console.sock@@@0@shutdown\n");
  std::filesystem::remove_all(dir);
}

TEST(MtaLogs, UnwritableDirectoryIsAnError) {
  auto logs = MtaLogs::Open({.mainlog = "/proc/no/such/dir/mainlog"});
  EXPECT_FALSE(logs.ok());
}

}  // namespace
}  // namespace ec::mta
