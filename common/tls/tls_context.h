// OpenSSL contexts for our servers (SMTP STARTTLS, the config repository's HTTPS) and clients
// (outbound SMTP, eccfg), built from the config's tls_* options, plus a self-signed certificate
// maker for a daemon's first start and for tests. An SSL_CTX is built once per config snapshot
// and shared, read-only, by every connection made under that snapshot.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ec::tls {

struct SslCtxDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslDeleter {
  void operator()(SSL* p) const { SSL_free(p); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;

struct ServerTlsOptions {
  std::string certificate_file;  // PEM, may hold the chain
  std::string key_file;          // PEM
  std::string ciphers;           // OpenSSL cipher list; empty = OpenSSL's default
  std::string client_ca_file;    // verify client certificates against this CA list, if set
  bool require_client_certificate = false;  // tls_verify_mode = require
};

// A server context; fails with a message naming the file and OpenSSL's reason.
Result<std::shared_ptr<SSL_CTX>> MakeServerContext(const ServerTlsOptions& options);

struct ClientTlsOptions {
  std::string ca_file;            // trust anchors; empty = the system's default paths
  bool verify_peer = false;       // refuse the handshake if the chain does not verify
  std::string certificate_file;   // optional client certificate
  std::string key_file;
  std::string ciphers;
};

Result<std::shared_ptr<SSL_CTX>> MakeClientContext(const ClientTlsOptions& options);

// Writes a fresh self-signed certificate and its private key (P-256, SHA-256) for
// `common_name` with `dns_names`/`ip_addresses` as subjectAltNames, valid `days` days. The key
// file is created with mode 0600.
Status WriteSelfSignedCertificate(const std::string& certificate_file,
                                  const std::string& key_file, const std::string& common_name,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses, int days = 365);

// The text of OpenSSL's error queue (and clears it), for messages and logs.
std::string LastOpenSslError();

// Protocol version and cipher of an established connection, e.g. "TLSv1.3:TLS_AES_256_GCM_SHA384".
std::string DescribeSession(const SSL* ssl);

}  // namespace ec::tls
