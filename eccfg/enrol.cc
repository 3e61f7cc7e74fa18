#include "eccfg/enrol.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "common/base/atomic_file.h"
#include "eccfg/cluster_boot.h"
#include "eccfg/https_remote.h"
#include "eccfg/pull_setup.h"
#include "eccfg/working_copy.h"
#include "ecconfigd/auth.h"
#include "ecconfigd/git_handles.h"
#include "msgc/curve_keys.h"

namespace ec::eccfg {
namespace fs = std::filesystem;

namespace {

int Fail(std::ostream& err, int code, const std::string& message) {
  err << "eccfg enrol: " << message << "\n";
  return code;
}

int CodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kPermissionDenied:
      return kExitAuth;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case StatusCode::kFailedPrecondition:
      return kExitRefused;
    default:
      return kExitError;
  }
}

}  // namespace

int RunEnrol(const CliOptions& options, std::ostream& out, std::ostream& err) {
  CliOptions o = options;
  o.wc = fs::absolute(o.wc).lexically_normal();
  if (!o.wc.has_filename()) o.wc = o.wc.parent_path();
  const fs::path etc = o.wc.parent_path();
  if (o.boot_file.empty()) o.boot_file = etc / "cluster.boot";
  auto boot = ClusterBoot::Load(o.boot_file);
  if (!boot.ok()) {
    return Fail(err, kExitUsage, boot.status().message() + " (unpack the clone package first)");
  }
  if (boot->node_name.empty() || boot->repo.empty() || boot->repo[0] == '/') {
    return Fail(err, kExitUsage, o.boot_file.string() + " lacks node_name= or an HTTPS repo=");
  }
  std::string token;
  if (!o.secret_file.empty()) {  // --token-file
    auto read = ecconfigd::ReadSecret(o.secret_file);
    if (!read.ok()) return Fail(err, kExitUsage, read.status().message());
    token = *read;
  } else if (const char* env = std::getenv(kEnrolTokenEnv); env != nullptr) {
    token = env;
  }
  if (token.empty()) {
    return Fail(err, kExitUsage,
                std::string("no token: set ") + kEnrolTokenEnv + " or give --token-file");
  }
  // The node's own key pair: the secret half never leaves this host.
  auto pair = msgc::LoadOrCreateKeyPair((etc / "msgc.key").string(), "");
  if (!pair.ok()) return Fail(err, kExitError, pair.status().message());
  auto host_port = ParseHostPort(boot->repo);
  if (!host_port.ok()) return Fail(err, kExitUsage, host_port.status().message());
  HttpsEndpoint endpoint;
  endpoint.host = host_port->first;
  endpoint.port = host_port->second;
  endpoint.subcluster = boot->cluster_name;
  endpoint.pinned_certificate = etc / "ecconfigd.crt";
  auto secret = HttpsRemote(endpoint).Enrol(boot->node_name, token, pair->public_key);
  if (!secret.ok()) return Fail(err, CodeFor(secret.status()), secret.status().message());
  if (Status s = WriteFileAtomically((etc / "ecconfigd.secret").string(), *secret + "\n", 0600);
      !s.ok()) {
    return Fail(err, kExitError, s.message());
  }
  if (!o.quiet) out << "Enrolled " << boot->node_name << " with " << boot->repo << "\n";
  endpoint.secret = *secret;
  HttpsRemote remote(endpoint);
  PullOptions pull = MakePullOptionsFor(o, *boot, etc.parent_path());
  pull.reloader = nullptr;  // ecmta starts after this with the config we fetched
  auto report = WorkingCopy(o.wc).Pull(remote, pull);
  if (!report.ok()) return Fail(err, CodeFor(report.status()), report.status().message());
  if (report->outcome == PullReport::Outcome::kInvalid) {
    return Fail(err, kExitInvalid,
                "the validator refused the first config: " +
                    CommandOutcome{0, report->validator_output}.FirstErrorLine());
  }
  if (!o.quiet) {
    out << "OK: " << o.wc.string() << " is at revision " << ecconfigd::ShortOid(report->revision)
        << "; start ecmta\n";
  }
  return kExitOk;
}

}  // namespace ec::eccfg
