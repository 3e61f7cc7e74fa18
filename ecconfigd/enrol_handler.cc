// ConfigServer's enrolment routes (enrol_request.h): the clone package and the enrol request.
// Token checks happen on the head, before any body is read, and count as failed logins (the
// same throttle as passwords); the enrolment itself is redeemed under the token file's lock.
#include <fstream>
#include <sstream>

#include "common/log/logger.h"
#include "ecconfigd/enrol_package.h"
#include "ecconfigd/enrol_request.h"
#include "ecconfigd/server.h"

namespace ec::ecconfigd {
namespace {

constexpr size_t kMaxEnrolBody = 256;
constexpr int kCommitAttempts = 3;  // a push landing between read and commit: try again

Result<std::string> ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kIoError, "cannot read " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

void ConfigServer::OnEnrolHead(ExchangeId id, const HttpRequestHead& head,
                               const std::string& peer) {
  if (RefuseIfThrottled(id, peer)) return;
  auto target = ParseEnrolTarget(head.target);
  if (!target.ok()) {
    if (target.status().code() == StatusCode::kPermissionDenied) {
      exchanges_[id].peer = peer;
      RefuseLogin(id, peer, target.status().message(), "");
    } else {
      Reply(id, target.status().code() == StatusCode::kNotFound ? 404 : 400,
            target.status().message() + "\n");
    }
    return;
  }
  bool clone = target->kind == EnrolTarget::Kind::kClone;
  if (head.method != (clone ? "GET" : "POST")) {
    Reply(id, 405, "use GET for /clone and POST for /enrol\n");
    return;
  }
  std::string token = target->token;
  if (!clone) {
    auto bearer = ParseBearer(head.Header("authorization"));
    token = bearer.ok() ? *bearer : "";
  }
  Exchange& exchange = exchanges_[id];
  exchange.peer = peer;
  exchange.target.operation = clone ? "clone" : "enrol";
  exchange.target.params["node"] = target->node;
  auto entry = enrol_.Check(target->node, token, UnixNow());
  if (!entry.ok()) {
    if (entry.status().code() != StatusCode::kPermissionDenied) {
      EC_LOG(kError, "cannot read the enrolment tokens").Field("error", entry.status());
      Reply(id, 500, entry.status().message() + "\n");
      return;
    }
    RefuseLogin(id, peer, entry.status().message(), target->node);
    return;
  }
  if (!clone) {
    exchange.token = std::move(token);
    http_->ReadBody(id, kMaxEnrolBody);
    return;
  }
  std::string repo = options_.address + ":" + std::to_string(http_->port());
  if (auto host = ParseHostHeader(head.Header("host")); host.ok()) repo = *host;
  auto certificate = ReadWhole(certificate_file());
  if (!certificate.ok()) {
    Reply(id, 500, certificate.status().message() + "\n");
    return;
  }
  auto package =
      BuildTarGz(ClonePackageFiles(target->node, entry->subcluster, repo, *certificate));
  if (!package.ok()) {
    Reply(id, 500, package.status().message() + "\n");
    return;
  }
  EC_LOG(kInfo, "clone package sent").Field("node", target->node).Field("address", peer);
  exchanges_.erase(id);
  http_->Reply(id, 200, *package, {{"Content-Type", "application/gzip"}});
}

void ConfigServer::HandleEnrol(ExchangeId id, const Exchange& exchange, const std::string& body) {
  const std::string& node = exchange.target.params.at("node");
  auto key = ParseEnrolBody(body);
  if (!key.ok()) {
    Reply(id, 400, key.status().message() + "\n");
    return;
  }
  std::string revision, credential;
  auto redeemed = enrol_.Redeem(node, exchange.token, UnixNow(), [&](const EnrolEntry& entry) {
    return CommitEnrolment(entry, *key, exchange.peer, &revision, &credential);
  });
  if (!redeemed.ok()) {
    if (redeemed.status().code() == StatusCode::kPermissionDenied) {
      RefuseLogin(id, exchange.peer, redeemed.status().message(), node);
    } else {
      EC_LOG(kError, "enrolment failed").Field("node", node).Field("error", redeemed.status());
      Reply(id, redeemed.status().code() == StatusCode::kFailedPrecondition ? 409 : 500,
            redeemed.status().message() + "\n");
    }
    return;
  }
  EC_LOG(kInfo, "node enrolled")
      .Field("node", node)
      .Field("address", exchange.peer)
      .Field("revision", revision);
  // The node's own fetch credential ("<node>:<secret>"): sent only now, only its hash is kept.
  Reply(id, 200, credential + "\n", revision);
  AnswerWaiters(false);
  NoticeHeads();  // announced on the bus: the members pull the new peers entry and reload
}

Status ConfigServer::CommitEnrolment(const EnrolEntry& entry, const std::string& public_key,
                                     const std::string& peer, std::string* revision,
                                     std::string* credential) {
  auto it = repos_.find(entry.subcluster);
  if (it == repos_.end()) return NotFound("no subcluster " + entry.subcluster);
  // Before the commit: a credential that cannot be stored commits nothing. One issued for a
  // commit that then fails is never sent, and the next attempt replaces it.
  EC_ASSIGN_OR_RETURN(*credential, credentials_.Issue(entry.node, UnixNow()));
  Repo& repo = it->second;
  std::string address = entry.address.empty() ? peer : entry.address;
  Status last = Status::Ok();
  for (int attempt = 0; attempt < kCommitAttempts; ++attempt) {
    EC_ASSIGN_OR_RETURN(git_oid head, repo.Head());
    EC_ASSIGN_OR_RETURN(auto conf, repo.ReadFile("global/msgc_server.conf"));
    if (!conf) return FailedPrecondition("the repository has no global/msgc_server.conf");
    EC_ASSIGN_OR_RETURN(std::string peers, AddBusPeer(*conf, entry.node, address));
    std::map<std::string, std::string> files = {
        {"global/msgc_keys/" + entry.node + ".pub", public_key + "\n"},
        {"global/msgc_server.conf", peers}};
    auto committed = repo.CommitFiles(head, files, "Enrol node " + entry.node + " (" + address +
                                      ")", "ecconfigd-enrol");
    if (committed.ok()) {
      *revision = OidToHex(*committed);
      return Status::Ok();
    }
    last = committed.status();
    if (last.code() != StatusCode::kFailedPrecondition) return last;
  }
  return last;
}

}  // namespace ec::ecconfigd
