// HttpsRemote: the Remote that talks to ecconfigd (protocol.h) over HTTPS with a plain blocking
// OpenSSL client, one connection per request. The server is trusted only if it presents exactly
// the certificate pinned at bootstrap (<etc>/ecconfigd.crt), so the self-signed certificate
// needs no CA. Blocks the calling thread; one thread at a time per object. The process should
// ignore SIGPIPE (eccfg does), so a server that hangs up mid-request is an error, not a signal.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "eccfg/remote.h"
#include "ecconfigd/protocol.h"

namespace ec::eccfg {

struct HttpsEndpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 2027;
  std::string subcluster = "default";
  std::filesystem::path pinned_certificate;
  // For fetch and wait: this node's "<node>:<secret>" (sent as Basic) or the cluster secret
  // (Bearer), as kept in <etc>/ecconfigd.secret (ecconfigd/node_credentials.h).
  std::string secret;
  std::string user;      // for push
  std::string password;  // for push
  std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};
};

// "host", "host:port" or "[v6]:port"; the port defaults to 2027.
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text);

class HttpsRemote : public Remote {
 public:
  explicit HttpsRemote(HttpsEndpoint endpoint) : endpoint_(std::move(endpoint)) {}
  Result<FetchResult> Fetch(const std::optional<git_oid>& have) override;
  Result<git_oid> Push(const git_oid& expected_head, const git_oid& new_head,
                       std::string_view pack) override;
  Result<git_oid> Wait(const git_oid& have, std::chrono::milliseconds timeout) override;
  // POST /enrol/<node> (ecconfigd/enrol_request.h): sends the node's CURVE public key with the
  // one-time token; returns the node's own fetch credential, "<node>:<secret>".
  Result<std::string> Enrol(const std::string& node, const std::string& token,
                            const std::string& public_key);

 private:
  Result<ecconfigd::HttpResponse> Request(const std::string& method, const std::string& target,
                                          const std::string& authorization, std::string_view body,
                                          std::chrono::milliseconds timeout);
  HttpsEndpoint endpoint_;
};

}  // namespace ec::eccfg
