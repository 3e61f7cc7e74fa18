// The eccfg commands after option parsing: bootstrap, pull, commit, status, diff, log, revert,
// resolve, rollback. Each prints its result to `out`, any error as one line on `err`, and returns
// a documented exit code (docs/config-workflow.md). Runs on the calling thread.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace ec::eccfg {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,         // bad command line or cluster.boot
  kExitConflict = 2,      // pull: local edits conflict; nothing changed
  kExitInvalid = 3,       // pull: the validator refused the new config; nothing changed
  kExitRefused = 4,       // stale commit, unresolved conflicts, no working copy, missing files
  kExitAuth = 5,          // wrong password, secret or server certificate
  kExitUnavailable = 6,   // ecconfigd cannot be reached
  kExitReloadFailed = 7,  // pull applied, but the reload command failed
  kExitBusy = 8,          // another pull or commit held the working copy too long
  kExitError = 9,         // anything else (corrupt pack, disk, internal)
};

struct CliOptions {
  std::string command;
  std::vector<std::string> args;
  std::filesystem::path wc;           // the working copy (<root>/etc/conf)
  std::filesystem::path boot_file;    // default <etc>/cluster.boot
  std::string repo;                   // overrides cluster.boot's repo
  std::string cluster_name;           // bootstrap
  std::string node_name;              // bootstrap
  std::filesystem::path certificate;  // bootstrap: the server certificate to pin
  std::filesystem::path secret_file;  // bootstrap: the cluster secret to copy
  std::string user;
  std::filesystem::path password_file;  // commit; see password_source.h for the others
  bool auto_mode = false;
  bool mine = false, theirs = false, manual = false;
  bool watch = false;
  int watch_limit = 0;  // stop watching after this many pulls (0: forever)
  int wait_seconds = 55;
  bool add_all = false, delete_all = false;
  std::string message;
  std::optional<std::string> validate_command;
  std::optional<std::string> reload_command;
  std::optional<std::string> ecmta;           // the validating binary (default: beside eccfg)
  std::optional<std::string> control_socket;  // default <root>/run/ec_console.sock
  int limit = 20;
  bool quiet = false;
};

int RunCli(const CliOptions& options, std::ostream& out, std::ostream& err);

}  // namespace ec::eccfg
