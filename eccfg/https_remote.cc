#include "eccfg/https_remote.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>

#include "common/daemon/unique_fd.h"
#include "ecconfigd/git_handles.h"
#include "ecconfigd/node_credentials.h"

namespace ec::eccfg {
namespace {

using ecconfigd::HttpResponse;

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* p) const { fclose(p); }
};
struct AddrInfoFree {
  void operator()(addrinfo* p) const { freeaddrinfo(p); }
};
using Fd = daemon::UniqueFd;

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "connection closed";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Status StatusFromResponse(const HttpResponse& r, std::string_view what) {
  std::string body = r.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  std::string message =
      std::string(what) + ": " + (body.empty() ? "HTTP " + std::to_string(r.status) : body);
  switch (r.status) {
    case 400:
      return InvalidArgument(message);
    case 401:
    case 403:
      return Status(StatusCode::kPermissionDenied, message);
    case 404:
      return NotFound(message);
    case 409:
      return FailedPrecondition(message);
    default:
      return Unavailable(message);
  }
}

// True once `raw` holds a whole response with a Content-Length body.
bool Complete(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = raw.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;
  size_t start = at + 17;
  while (start < head.size() && head[start] == ' ') ++start;
  size_t n = 0;
  std::from_chars(head.data() + start, head.data() + head.size(), n);
  return raw.size() - (end + 4) >= n;
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text) {
  std::string host(text);
  uint16_t port = 2027;
  std::string_view port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return InvalidArgument("bad address " + std::string(text));
    host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return InvalidArgument("bad address " + std::string(text));
      port_text = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (!port_text.empty()) {
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0) {
      return InvalidArgument("bad port in " + std::string(text));
    }
  }
  if (host.empty()) return InvalidArgument("no host in " + std::string(text));
  return std::make_pair(host, port);
}

Result<HttpResponse> HttpsRemote::Request(const std::string& method, const std::string& target,
                                          const std::string& authorization, std::string_view body,
                                          std::chrono::milliseconds timeout) {
  std::string where = endpoint_.host + ":" + std::to_string(endpoint_.port);
  std::unique_ptr<FILE, FileClose> pem(fopen(endpoint_.pinned_certificate.c_str(), "r"));
  if (!pem) {
    return FailedPrecondition("cannot read the pinned ecconfigd certificate " +
                              endpoint_.pinned_certificate.string() + " (see eccfg bootstrap)");
  }
  std::unique_ptr<X509, X509Free> pinned(PEM_read_X509(pem.get(), nullptr, nullptr, nullptr));
  if (!pinned) return InvalidArgument("bad certificate " + endpoint_.pinned_certificate.string());

  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(endpoint_.port);
  if (int rc = getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Unavailable("cannot resolve " + endpoint_.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, AddrInfoFree> addresses(found);
  int last_errno = 0;
  std::unique_ptr<Fd> fd;
  for (addrinfo* a = addresses.get(); a != nullptr; a = a->ai_next) {
    auto candidate =
        std::make_unique<Fd>(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (candidate->get() < 0) continue;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(candidate->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(candidate->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(candidate->get(), a->ai_addr, a->ai_addrlen) == 0) {
      fd = std::move(candidate);
      break;
    }
    last_errno = errno;
  }
  if (!fd) {
    return Unavailable("cannot connect to ecconfigd at " + where + ": " + strerror(last_errno));
  }
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Internal("SSL_CTX_new: " + OpenSslError());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl) return Internal("SSL_new: " + OpenSslError());
  SSL_set_fd(ssl.get(), fd->get());
  SSL_set_tlsext_host_name(ssl.get(), endpoint_.host.c_str());
  if (SSL_connect(ssl.get()) != 1) {
    return Unavailable("TLS handshake with " + where + " failed: " + OpenSslError());
  }
  std::unique_ptr<X509, X509Free> peer(SSL_get1_peer_certificate(ssl.get()));
  if (!peer || X509_cmp(peer.get(), pinned.get()) != 0) {
    return Status(StatusCode::kPermissionDenied, "the server at " + where +
                                                     " does not present the pinned certificate " +
                                                     endpoint_.pinned_certificate.string());
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + endpoint_.host +
                        "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n";
  if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
  request += "\r\n";
  request.append(body);
  size_t sent = 0;
  std::optional<Status> send_error;
  while (sent < request.size()) {
    int n = SSL_write(ssl.get(), request.data() + sent,
                      static_cast<int>(std::min<size_t>(request.size() - sent, 1 << 20)));
    if (n <= 0) {
      // ecconfigd answers early (401, 413, 429) without reading the body: read that answer.
      send_error = Unavailable("sending to " + where + ": " + OpenSslError());
      break;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[16384];
  while (!Complete(raw)) {
    int n = SSL_read(ssl.get(), buf, sizeof buf);
    if (n <= 0) {
      int err = SSL_get_error(ssl.get(), n);
      if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0)) break;
      if (send_error) break;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return Status(StatusCode::kDeadlineExceeded, "no answer from " + where + " in time");
      }
      return Unavailable("reading from " + where + ": " + OpenSslError());
    }
    raw.append(buf, static_cast<size_t>(n));
  }
  ERR_clear_error();
  auto response = ecconfigd::ParseHttpResponse(raw);
  if (!response.ok() && send_error) return *send_error;
  if (!response.ok())
    return Unavailable("bad answer from " + where + ": " + response.status().message());
  return response;
}

Result<FetchResult> HttpsRemote::Fetch(const std::optional<git_oid>& have) {
  std::string target = "/config/" + endpoint_.subcluster + "/fetch";
  if (have) target += "?have=" + ecconfigd::OidToHex(*have);
  EC_ASSIGN_OR_RETURN(HttpResponse r,
                      Request("GET", target, ecconfigd::FetchAuthorization(endpoint_.secret), "",
                              endpoint_.io_timeout));
  if (r.status != 200) return StatusFromResponse(r, "fetch refused");
  EC_ASSIGN_OR_RETURN(git_oid head, ecconfigd::ParseOid(r.Header("x-ec-head")));
  if (r.body.empty()) {
    if (!have || !git_oid_equal(&head, &*have)) return Unavailable("fetch: empty pack");
    // Up to date: an empty pack stands for "nothing new".
    static constexpr char kEmptyPack[] = "PACK\0\0\0\2\0\0\0\0";
    r.body.assign(kEmptyPack, 12);
    r.body.append(20, '\0');
  }
  return FetchResult{head, std::move(r.body)};
}

Result<std::string> HttpsRemote::Enrol(const std::string& node, const std::string& token,
                                       const std::string& public_key) {
  EC_ASSIGN_OR_RETURN(HttpResponse r, Request("POST", "/enrol/" + node, "Bearer " + token,
                                              public_key + "\n", endpoint_.io_timeout));
  if (r.status != 200) return StatusFromResponse(r, "enrolment refused");
  std::string secret = r.body;
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty() || secret.find('\n') != std::string::npos) {
    return Unavailable("enrolment: no fetch credential in the answer");
  }
  return secret;
}

Result<git_oid> HttpsRemote::Push(const git_oid& expected_head, const git_oid& new_head,
                                  std::string_view pack) {
  if (endpoint_.user.empty() || endpoint_.password.empty()) {
    return Status(StatusCode::kPermissionDenied, "commit needs --username and a password");
  }
  std::string target = "/config/" + endpoint_.subcluster +
                       "/push?old=" + ecconfigd::OidToHex(expected_head) +
                       "&new=" + ecconfigd::OidToHex(new_head);
  EC_ASSIGN_OR_RETURN(
      HttpResponse r,
      Request("POST", target, ecconfigd::FormatBasicAuth({endpoint_.user, endpoint_.password}),
              pack, endpoint_.io_timeout));
  if (r.status != 200) return StatusFromResponse(r, "commit refused");
  return ecconfigd::ParseOid(r.Header("x-ec-head"));
}

Result<git_oid> HttpsRemote::Wait(const git_oid& have, std::chrono::milliseconds timeout) {
  auto seconds =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  std::string target = "/config/" + endpoint_.subcluster +
                       "/wait?have=" + ecconfigd::OidToHex(have) +
                       "&timeout=" + std::to_string(seconds);
  EC_ASSIGN_OR_RETURN(HttpResponse r,
                      Request("GET", target, ecconfigd::FetchAuthorization(endpoint_.secret), "",
                              timeout + std::chrono::seconds(15)));
  if (r.status != 200) return StatusFromResponse(r, "wait refused");
  return ecconfigd::ParseOid(r.Header("x-ec-head"));
}

}  // namespace ec::eccfg
