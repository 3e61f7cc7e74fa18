// Node-wide options: identity, privileges, spool, threads, config files, debug flags.
#include "common/config/schema.h"

namespace ec::config {

void RegisterNodeOptions(SchemaRegistry* r) {
  using T = OptionType;
  using S = Support;
  const std::vector<std::string> kGlobal = {"global"};
  auto add = [r](OptionSpec s) { r->AddOption(std::move(s)); };

  add({.name = "hostname",
       .type = T::kString,
       .scopes = kGlobal,
       .doc = "This node's own name in the 220 greeting, Received:, EHLO and bounces (default: "
              "the system host name)",
       .support = S::kImplemented});
  add({.name = "pidfile",
       .type = T::kPath,
       .default_text = "/opt/ecmta/run/ecmta.pid",
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "PID file; must differ per instance",
       .support = S::kImplemented});
  add({.name = "license",
       .type = T::kPath,
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "License file (accepted for compatibility, never read)"});
  add({.name = "spoolbase",
       .type = T::kPath,
       .default_text = "/opt/ecmta/spool",
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "Spool root directory",
       .support = S::kImplemented});
  add({.name = "spool_zero_ahead",
       .type = T::kBytes,
       .default_text = "8M",
       .scopes = kGlobal,
       .reloadable = false,
       .min = 0,
       .doc = "Keep the active spool segment zero-filled this far past its last record, so each "
              "fdatasync writes data only, not the file's growth (ours; docs/spool.md); 0 = off. "
              "Paused while syncs carry several messages at once (the CPU, not the sync, is then "
              "the limit). Off on tmpfs; of no use on copy-on-write file systems (btrfs, ZFS)",
       .support = S::kImplemented});
  add({.name = "spool_mode",
       .type = T::kOctal,
       .default_text = "0640",
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "Mode of new spool files",
       .support = S::kPlanned});
  add({.name = "force_fsync",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .doc = "fsync the spool files before answering 250",
       .support = S::kPlanned});
  add({.name = "_unsafe_spool",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .doc = "Allow unsafe spool semantics"});
  add({.name = "unlink_on_spool_in_failure",
       .type = T::kBool,
       .default_text = "true",
       .scopes = kGlobal,
       .doc = "Delete unreadable spool files at spool-in"});
  add({.name = "disk_queue_drain_rate",
       .type = T::kInt,
       .default_text = "100",
       .scopes = kGlobal,
       .min = 1,
       .doc = "Spooled messages queued per iteration at startup"});
  add({.name = "max_resident_messages",
       .type = T::kInt,
       .default_text = "32768",
       .scopes = {"binding", "binding_group", "global"},
       .min = 0,
       .doc = "Messages kept in memory; 0 = unlimited"});
  add({.name = "server_max_file_descriptors",
       .type = T::kInt,
       .default_text = "3000000",
       .scopes = kGlobal,
       .min = 64,
       .doc = "File-descriptor limit to request"});
  add({.name = "scheduler",
       .type = T::kString,
       .scopes = kGlobal,
       .reloadable = false,
       .doc = "Force an I/O event mechanism"});
  add({.name = "control_client_timeout",
       .type = T::kSeconds,
       .default_text = "60",
       .scopes = kGlobal,
       .doc = "Network timeout of console client connections"});
  add({.name = "timestampformat",
       .type = T::kString,
       .default_text = "\"[%a %d %b %Y %H:%M:%S] \"",
       .scopes = kGlobal,
       .doc = "strftime prefix of stderr and log output"});
  add({.name = "local_changes_file",
       .type = T::kPath,
       .scopes = kGlobal,
       .doc = "File loaded last that receives online (config set) edits"});
  add({.name = "local_changes_only",
       .type = T::kBool,
       .default_text = "false",
       .scopes = kGlobal,
       .doc = "Write every online edit to local_changes_file"});

  // Security { }.
  const std::vector<std::string> kSecurity = {"security"};
  add({.name = "user",
       .type = T::kString,
       .default_text = "ecuser",
       .scopes = kSecurity,
       .reloadable = false,
       .doc = "Account a daemon started as root switches to once bound; \"\": stay root",
       .support = S::kImplemented});
  add({.name = "group",
       .type = T::kString,
       .scopes = kSecurity,
       .reloadable = false,
       .doc = "Primary group after startup; unset: the user's own primary group",
       .support = S::kImplemented});
  add({.name = "capabilities",
       .type = T::kString,
       .scopes = kSecurity,
       .reloadable = false,
       .doc = "Linux capabilities kept after dropping root (\"cap_net_admin+ep cap_net_raw+ep\")",
       .support = S::kImplemented});
  add({.name = "chroot",
       .type = T::kPath,
       .scopes = kSecurity,
       .reloadable = false,
       .doc = "Directory to chroot into after startup"});
  add({.name = "supplemental_groups",
       .type = T::kList,
       .scopes = kSecurity,
       .reloadable = false,
       .doc = "Extra groups applied with setgroups()"});

  // ThreadPool "name" { } and EventLoop "name" { }.
  add({.name = "concurrency",
       .type = T::kInt,
       .default_text = "0",
       .scopes = {"threadpool", "eventloop", "control_listener", "eccluster_listener",
                  "ecstream_listener", "esmtp_listener", "listen"},
       .min = 0,
       .max = 4096,
       .doc = "Threads in a pool, or threaded-accept workers"});
  add({.name = "stack_size",
       .type = T::kBytes,
       .default_text = "0",
       .scopes = {"threadpool"},
       .reloadable = false,
       .doc = "Thread stack size; 0 = system default"});
  add({.name = "backlog",
       .type = T::kInt,
       .default_text = "0",
       .scopes = {"threadpool"},
       .reloadable = false,
       .min = 0,
       .doc = "Queued jobs before submitters block"});

  // Debug_Flags { }.
  for (const char* level : {"debug", "info", "notice", "warning", "error", "critical"}) {
    std::string name = level;
    bool all = name == "error" || name == "critical";
    add({.name = name,
         .type = T::kList,
         .default_text = all ? "( ALL )" : "( )",
         .scopes = {"debug_flags"},
         .doc = "Subsystems logged to the paniclog at this level",
         .support = S::kPlanned});
  }

  // Authorization { Role "name" { allow = ( ... ) } }.
  add({.name = "allow",
       .type = T::kList,
       .scopes = {"role"},
       .doc = "Console command regexes this role may run"});
}

}  // namespace ec::config
