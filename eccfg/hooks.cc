#include "eccfg/hooks.h"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <system_error>

#include "common/config/loader.h"
#include "common/control/client.h"
#include "eccfg/check_server.h"
#include "ecconfigd/git_handles.h"

namespace ec::eccfg {
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kReloadTimeout{30};

bool IsExecutable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// `path` relative to `dir` when it lies inside it (or is it), else nullopt.
std::optional<fs::path> Inside(const fs::path& path, const fs::path& dir) {
  fs::path rel = path.lexically_normal().lexically_relative(dir.lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return std::nullopt;
  return rel;
}

}  // namespace

Validator ShellValidator(std::string command) {
  return [command = std::move(command)](const fs::path& checkout) {
    return RunShellCommand(command, checkout, {{"EC_CONF_DIR", checkout.string()}});
  };
}

Reloader ShellReloader(std::string command) {
  return [command = std::move(command)](const fs::path& wc, const git_oid& revision) {
    return RunShellCommand(
        command, wc.parent_path(),
        {{"EC_CONF_DIR", wc.string()}, {"EC_CONF_REVISION", ecconfigd::OidToHex(revision)}});
  };
}

std::vector<std::string> SearchPathOver(const EcmtaCheck& check, const fs::path& checkout) {
  config::LoadOptions load;
  load.root = check.root.string();
  load.node_name = check.node_name;
  std::vector<std::string> path = config::EffectiveSearchPath(load);
  for (std::string& dir : path) {
    if (auto rel = Inside(dir, check.wc)) {
      dir = (*rel == "." ? checkout : checkout / *rel).lexically_normal().string();
    }
  }
  return path;
}

Validator EcmtaValidator(EcmtaCheck check) {
  // It runs in the checkout: a relative path must not change meaning there.
  std::error_code ec;
  check.ecmta = fs::absolute(check.ecmta, ec);
  std::shared_ptr<CheckServer> server;
  if (check.keep_server) {
    server = std::make_shared<CheckServer>(check.ecmta);
    server->Warm();
  }
  return [check = std::move(check),
          server = std::move(server)](const fs::path& checkout) -> Result<CommandOutcome> {
    std::string search;
    for (const std::string& dir : SearchPathOver(check, checkout)) {
      search += (search.empty() ? "" : ":") + dir;
    }
    if (server) {
      auto served = server->Check({.cwd = checkout.string(),
                                   .conf_dir = checkout.string(),
                                   .config = check.config,
                                   .root = check.root.string(),
                                   .node_name = check.node_name,
                                   .search_path = search});
      if (served.ok()) return served;
      // No server for this ecmta (or it died): the same check the slow way.
    }
    std::vector<std::string> argv = {
        check.ecmta.string(), "--check-config", "--root",        check.root.string(),
        "--config",           check.config,     "--search-path", search};
    if (!check.node_name.empty()) {
      argv.push_back("--node-name");
      argv.push_back(check.node_name);
    }
    EC_ASSIGN_OR_RETURN(CommandOutcome outcome,
                        RunProgram(argv, checkout, {{"EC_CONF_DIR", checkout.string()}}));
    if (outcome.exit_code == 127) {
      return FailedPrecondition("cannot run the validator " + check.ecmta.string());
    }
    return outcome;
  };
}

Reloader ControlReloader(std::string endpoint) {
  return [endpoint = std::move(endpoint)](const fs::path&, const git_oid&) {
    CommandOutcome outcome;
    std::error_code ec;
    bool is_path = endpoint.find('/') != std::string::npos;
    if (is_path && !fs::exists(endpoint, ec)) {
      outcome.exit_code = 0;
      outcome.output = "ecmta is not running (no " + endpoint + "); nothing to reload\n";
      return Result<CommandOutcome>(outcome);
    }
    auto reply = control::RunCommand(endpoint, "config reload", kReloadTimeout);
    if (reply.ok()) {
      outcome.exit_code = 0;
      outcome.output = *reply;
    } else if (reply.status().code() == StatusCode::kUnavailable) {
      // A socket file left by a stopped ecmta: nobody to tell.
      outcome.exit_code = 0;
      outcome.output =
          "ecmta is not running (" + reply.status().message() + "); nothing to reload\n";
    } else {
      outcome.exit_code = 1;
      outcome.output = "config reload on " + endpoint + ": " + reply.status().message() + "\n";
    }
    return Result<CommandOutcome>(outcome);
  };
}

Result<fs::path> FindEcmta() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(self.parent_path() / "ecmta");
    // In the build tree eccfg is <build>/eccfg/eccfg and ecmta <build>/mta/daemon/ecmta.
    candidates.push_back(self.parent_path().parent_path() / "mta/daemon/ecmta");
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    for (const std::string& dir : config::SplitSearchPath(path)) {
      candidates.push_back(fs::path(dir) / "ecmta");
    }
  }
  std::string looked;
  for (const fs::path& c : candidates) {
    if (IsExecutable(c)) return c.lexically_normal();
    looked += (looked.empty() ? "" : ", ") + c.string();
  }
  return NotFound("cannot validate: no ecmta found (looked at " + looked +
                  "); set ecmta= in cluster.boot, pass --ecmta, or --validate none");
}

}  // namespace ec::eccfg
