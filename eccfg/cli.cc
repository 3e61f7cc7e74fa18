#include "eccfg/cli.h"

#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "eccfg/cluster_boot.h"
#include "eccfg/https_remote.h"
#include "eccfg/password_source.h"
#include "eccfg/pull_setup.h"
#include "eccfg/working_copy.h"
#include "ecconfigd/auth.h"
#include "ecconfigd/git_handles.h"

namespace ec::eccfg {
namespace fs = std::filesystem;
using ecconfigd::OidToHex;
using ecconfigd::ShortOid;

namespace {

int ExitFor(const ec::Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kFailedPrecondition:
      return kExitRefused;
    case StatusCode::kPermissionDenied:
      return kExitAuth;
    case StatusCode::kUnavailable:
      return kExitUnavailable;
    case StatusCode::kDeadlineExceeded:
      return kExitBusy;
    default:
      return kExitError;
  }
}

int Fail(std::ostream& err, const ec::Status& s) {
  err << "eccfg: " << s.message() << "\n";
  return ExitFor(s);
}

struct Context {
  const CliOptions& options;
  std::ostream& out;
  std::ostream& err;
  fs::path etc;
  ClusterBoot boot;
};

Result<std::unique_ptr<Remote>> MakeRemote(const Context& c, bool for_push) {
  std::string repo = c.options.repo.empty() ? c.boot.repo : c.options.repo;
  if (repo.empty()) return FailedPrecondition("no repo= in cluster.boot and no --repo given");
  std::string user = c.options.user;
  if (user.empty()) {
    const char* env = std::getenv("USER");
    user = env != nullptr ? env : "admin";
  }
  if (repo[0] == '/') {
    return std::unique_ptr<Remote>(
        new LocalRemote(fs::path(repo) / (c.boot.cluster_name + ".git"), user));
  }
  EC_ASSIGN_OR_RETURN(auto host_port, ParseHostPort(repo));
  HttpsEndpoint endpoint;
  endpoint.host = host_port.first;
  endpoint.port = host_port.second;
  endpoint.subcluster = c.boot.cluster_name;
  endpoint.pinned_certificate = c.etc / "ecconfigd.crt";
  EC_ASSIGN_OR_RETURN(endpoint.secret, ecconfigd::ReadSecret(c.etc / "ecconfigd.secret"));
  endpoint.user = user;
  if (for_push) {
    EC_ASSIGN_OR_RETURN(endpoint.password,
                        ObtainPassword(ProcessPasswordSources(c.options.password_file)));
  }
  return std::unique_ptr<Remote>(new HttpsRemote(endpoint));
}

PullOptions MakePullOptions(const Context& c) {
  return MakePullOptionsFor(c.options, c.boot, c.etc.parent_path());
}

CommitOptions MakeCommitOptions(const Context& c) {
  CommitOptions o;
  if (!c.options.message.empty()) o.message = c.options.message;
  o.add_all = c.options.add_all;
  o.delete_all = c.options.delete_all;
  o.author_name = c.options.user.empty() ? "eccfg" : c.options.user;
  o.author_email =
      o.author_name + "@" + (c.boot.node_name.empty() ? "localhost" : c.boot.node_name);
  return o;
}

int ReportPull(const Context& c, const Result<PullReport>& r) {
  if (!r.ok()) return Fail(c.err, r.status());
  switch (r->outcome) {
    case PullReport::Outcome::kUpToDate:
      if (!c.options.quiet && !c.options.auto_mode) {
        c.out << "Already at revision " << ShortOid(r->revision) << "\n";
      }
      return kExitOk;
    case PullReport::Outcome::kConflict: {
      std::string files;
      for (const auto& f : r->conflicts) files += (files.empty() ? "" : ", ") + f;
      c.err << "eccfg: local edits conflict with revision " << ShortOid(r->revision) << " in "
            << files << "; nothing changed (use --mine, --theirs or --manual)\n";
      return kExitConflict;
    }
    case PullReport::Outcome::kInvalid: {
      std::string first = CommandOutcome{0, r->validator_output}.FirstErrorLine();
      c.err << "eccfg: revision " << ShortOid(r->revision)
            << " refused by the validator; nothing changed: " << first << "\n";
      return kExitInvalid;
    }
    case PullReport::Outcome::kApplied:
      break;
  }
  if (!c.options.quiet) {
    c.out << "OK: " << c.options.wc.string() << " is at revision " << ShortOid(r->revision)
          << (r->merged_local_edits ? " (local edits merged)" : "") << "\n";
    for (const auto& f : r->conflicts) c.out << "C " << f << "\n";
    if (!r->conflicts.empty()) {
      c.out << "edit the files above, then eccfg resolve FILE; the config is checked and ecmta "
               "reloaded once the last one is resolved\n";
    }
  }
  if (r->reload_failed) {
    std::string first = CommandOutcome{0, r->reload_output}.FirstErrorLine();
    c.err << "eccfg: revision " << ShortOid(r->revision)
          << " applied but the reload command failed: " << first << "\n";
    return kExitReloadFailed;
  }
  return kExitOk;
}

// What a pull --manual deferred, once its last conflict is settled: validate the working copy
// as it now is, then reload ecmta.
int CheckAndReload(const Context& c, const WorkingCopy& wc, const fs::path& checkout) {
  PullOptions p = MakePullOptions(c);
  if (p.validator) {
    auto run = p.validator(checkout);
    if (!run.ok() || !run->ok()) {
      c.err << "eccfg: conflicts resolved, but the validator refuses the config; ecmta not "
               "reloaded: "
            << (run.ok() ? run->FirstErrorLine() : run.status().message()) << "\n";
      return kExitInvalid;
    }
  }
  if (p.reloader) {
    auto rev = wc.Revision();
    if (!rev.ok()) return Fail(c.err, rev.status());
    auto run = p.reloader(wc.layout().wc(), *rev);
    if (!run.ok() || !run->ok()) {
      c.err << "eccfg: conflicts resolved, but the reload failed: "
            << (run.ok() ? run->FirstErrorLine() : run.status().message()) << "\n";
      return kExitReloadFailed;
    }
  }
  if (!c.options.quiet) c.out << "All conflicts resolved; the config is checked and live\n";
  return kExitOk;
}

Status CopyPrivate(const fs::path& from, const fs::path& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return FailedPrecondition("cannot read " + from.string());
  fs::path tmp = to;
  tmp += ".tmp";
  {
    std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
    o << in.rdbuf();
    if (!o) return Status(StatusCode::kIoError, "writing " + tmp.string());
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, to, ec);
  if (ec) return Status(StatusCode::kIoError, "writing " + to.string() + ": " + ec.message());
  return Status::Ok();
}

int Bootstrap(Context& c) {
  const CliOptions& o = c.options;
  if (o.repo.empty()) {
    c.err << "eccfg: bootstrap needs --repo host[:port] (or the manager's ecconfigd dir)\n";
    return kExitUsage;
  }
  std::error_code ec;
  fs::create_directories(c.etc, ec);
  if (o.repo[0] != '/') {
    if (o.certificate.empty() || o.secret_file.empty()) {
      c.err << "eccfg: bootstrap over HTTPS needs --cert (ecconfigd's server.crt) and "
               "--secret-file (its cluster.secret)\n";
      return kExitUsage;
    }
    if (Status s = CopyPrivate(o.certificate, c.etc / "ecconfigd.crt", 0644); !s.ok()) {
      return Fail(c.err, s);
    }
    if (Status s = CopyPrivate(o.secret_file, c.etc / "ecconfigd.secret", 0600); !s.ok()) {
      return Fail(c.err, s);
    }
  }
  ClusterBoot boot;
  if (!o.cluster_name.empty()) boot.cluster_name = o.cluster_name;
  boot.node_name = o.node_name;
  boot.repo = o.repo;
  boot.validate_command = o.validate_command.value_or("");
  boot.reload_command = o.reload_command.value_or("");
  boot.ecmta = o.ecmta.value_or("");
  boot.control_socket = o.control_socket.value_or("");
  {
    std::ofstream f(o.boot_file, std::ios::trunc);
    f << boot.Render();
    if (!f) return Fail(c.err, Status(StatusCode::kIoError, "writing " + o.boot_file.string()));
  }
  c.boot = boot;
  auto remote = MakeRemote(c, false);
  if (!remote.ok()) return Fail(c.err, remote.status());
  WorkingCopy wc(o.wc);
  return ReportPull(c, wc.Pull(**remote, MakePullOptions(c)));
}

int Pull(Context& c) {
  const CliOptions& o = c.options;
  if (int(o.mine) + int(o.theirs) + int(o.manual) > 1) {
    c.err << "eccfg: choose one of --mine, --theirs, --manual\n";
    return kExitUsage;
  }
  WorkingCopy wc(o.wc);
  if (o.auto_mode && c.boot.autoupdate == "false") return kExitOk;
  if (o.auto_mode && c.boot.autoupdate == "ifunchanged") {
    auto st = wc.Status();
    if (st.ok() && !st->empty()) {
      if (!o.quiet) c.out << "local edits present and autoupdate=ifunchanged: not pulling\n";
      return kExitOk;
    }
  }
  auto remote = MakeRemote(c, false);
  if (!remote.ok()) return Fail(c.err, remote.status());
  PullOptions pull = MakePullOptions(c);
  Result<PullReport> initial = wc.Pull(**remote, pull);
  int code = ReportPull(c, initial);
  if (!o.watch) return code;
  // Watch mode: wait on the long poll and pull as soon as a revision lands. Errors are reported
  // and retried after the next wait, so a restarting manager does not end the watch. A head
  // this node refused (invalid, or conflicting with local edits) is waited past, not pulled
  // again at once: else every watcher would spin on it until the next commit. It is tried again
  // when a poll times out on it (a validator that failed for a passing reason).
  std::optional<git_oid> refused;
  if (initial.ok() && (initial->outcome == PullReport::Outcome::kInvalid ||
                       initial->outcome == PullReport::Outcome::kConflict)) {
    refused = initial->revision;
  }
  for (int pulls = 1; o.watch_limit == 0 || pulls < o.watch_limit;) {
    c.out.flush();
    auto rev = wc.Revision();
    if (!rev.ok()) return Fail(c.err, rev.status());
    auto head = (*remote)->Wait(refused.value_or(*rev), std::chrono::seconds(o.wait_seconds));
    if (!head.ok()) {
      c.err << "eccfg: " << head.status().message() << "\n";
      // Do not spin against a dead server.
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (git_oid_equal(&*head, &*rev)) {
      refused.reset();
      continue;
    }
    auto result = wc.Pull(**remote, pull);
    code = ReportPull(c, result);
    ++pulls;
    refused.reset();
    if (result.ok() && (result->outcome == PullReport::Outcome::kInvalid ||
                        result->outcome == PullReport::Outcome::kConflict)) {
      refused = result->revision;
    } else if (!result.ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));  // a disk or pack error: no spin
    }
  }
  return code;
}

int Commit(Context& c) {
  auto remote = MakeRemote(c, true);
  if (!remote.ok()) return Fail(c.err, remote.status());
  WorkingCopy wc(c.options.wc);
  auto r = wc.Commit(**remote, MakeCommitOptions(c));
  if (!r.ok()) return Fail(c.err, r.status());
  for (const auto& f : r->not_added) c.out << "? " << f << " (not added; use --add-all)\n";
  if (r->nothing_to_commit) {
    c.out << "Nothing to commit\n";
  } else {
    c.out << "Committed revision " << ShortOid(r->revision) << "\n";
  }
  return kExitOk;
}

int Log(Context& c) {
  WorkingCopy wc(c.options.wc);
  auto log = wc.Log(static_cast<size_t>(std::max(1, c.options.limit)));
  if (!log.ok()) return Fail(c.err, log.status());
  for (const LogEntry& e : *log) {
    char when[32];
    time_t t = static_cast<time_t>(e.time);
    tm utc{};
    gmtime_r(&t, &utc);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &utc);
    c.out << ShortOid(e.id) << " " << when << " " << e.author << " " << e.summary << "\n";
  }
  return kExitOk;
}

}  // namespace

int RunCli(const CliOptions& options, std::ostream& out, std::ostream& err) {
  CliOptions o = options;
  if (o.wc.empty()) o.wc = "/opt/ecmta/etc/conf";
  o.wc = fs::absolute(o.wc).lexically_normal();
  if (!o.wc.has_filename()) o.wc = o.wc.parent_path();
  fs::path etc = o.wc.parent_path();
  if (o.boot_file.empty()) o.boot_file = etc / "cluster.boot";
  Context c{o, out, err, etc, {}};
  if (o.command == "bootstrap") return Bootstrap(c);

  auto boot = ClusterBoot::Load(o.boot_file);
  bool needs_remote = o.command == "pull" || o.command == "commit" || o.command == "rollback";
  if (boot.ok()) {
    c.boot = *boot;
  } else if (needs_remote && o.repo.empty()) {
    return Fail(err, boot.status());
  } else if (boot.status().code() == StatusCode::kInvalidArgument) {
    err << "eccfg: " << boot.status().message() << "\n";
    return kExitUsage;
  }
  WorkingCopy wc(o.wc);
  if (o.command == "pull") return Pull(c);
  if (o.command == "commit") return Commit(c);
  if (o.command == "log") return Log(c);
  if (o.command == "status") {
    auto st = wc.Status();
    if (!st.ok()) return Fail(err, st.status());
    for (const FileStatus& f : *st) {
      bool wanted = o.args.empty();
      for (const auto& a : o.args) wanted = wanted || f.path == a || f.path.rfind(a + "/", 0) == 0;
      if (wanted) out << f.code << " " << f.path << "\n";
    }
    return kExitOk;
  }
  if (o.command == "diff") {
    auto d = wc.Diff();
    if (!d.ok()) return Fail(err, d.status());
    out << *d;
    return kExitOk;
  }
  if (o.command == "revert" || o.command == "resolve") {
    if (o.args.empty()) {
      err << "eccfg: " << o.command << " needs FILE...\n";
      return kExitUsage;
    }
    auto checkout = wc.layout().RequireCheckout();
    bool had_conflicts = checkout.ok() && !ReadConflicts(*checkout).empty();
    for (const std::string& file : o.args) {
      ec::Status s = o.command == "revert" ? wc.Revert(file) : wc.Resolve(file);
      if (!s.ok()) return Fail(err, s);
      if (!o.quiet) out << (o.command == "revert" ? "Reverted " : "Resolved ") << file << "\n";
    }
    if (had_conflicts && ReadConflicts(*checkout).empty()) return CheckAndReload(c, wc, *checkout);
    return kExitOk;
  }
  if (o.command == "rollback") {
    if (o.args.size() != 1) {
      err << "eccfg: rollback needs one REV (see eccfg log)\n";
      return kExitUsage;
    }
    auto remote = MakeRemote(c, true);
    if (!remote.ok()) return Fail(err, remote.status());
    return ReportPull(c,
                      wc.Rollback(**remote, o.args[0], MakeCommitOptions(c), MakePullOptions(c)));
  }
  err << "eccfg: unknown command '" << o.command
      << "' (bootstrap, pull, commit, status, diff, log, revert, resolve, rollback)\n";
  return kExitUsage;
}

}  // namespace ec::eccfg
