#include "common/tls/tls_context.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/base/atomic_file.h"

namespace ec::tls {
namespace {

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Deleter {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

Status OpenSslFailure(const std::string& what) {
  return InvalidArgument(what + ": " + LastOpenSslError());
}

std::shared_ptr<SSL_CTX> Share(SSL_CTX* ctx) { return std::shared_ptr<SSL_CTX>(ctx, SSL_CTX_free); }

Status LoadCertificateAndKey(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return OpenSslFailure("loading certificate " + cert);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string reason = LastOpenSslError();
    if (reason.find("mismatch") != std::string::npos) {
      return InvalidArgument("private key " + key + " does not match certificate " + cert);
    }
    return InvalidArgument("loading private key " + key + ": " + reason);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslFailure("private key " + key + " does not match certificate " + cert);
  }
  return Status::Ok();
}

Status AddExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) return OpenSslFailure("making certificate extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

// Through memory, then atomically and synced: a crash never leaves a half-written key.
Status WritePem(const std::string& path, mode_t mode, bool key, EVP_PKEY* pkey, X509* cert) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslFailure("allocating a buffer for " + path);
  int ok = key ? PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_X509(bio.get(), cert);
  if (ok != 1) return OpenSslFailure("writing " + path);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return WriteFileAtomically(path, std::string_view(data, static_cast<size_t>(size)), mode);
}

}  // namespace

std::string LastOpenSslError() {
  std::string out;
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Result<std::shared_ptr<SSL_CTX>> MakeServerContext(const ServerTlsOptions& options) {
  std::shared_ptr<SSL_CTX> ctx = Share(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return OpenSslFailure("creating TLS server context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Renegotiation is a denial-of-service lever and SMTP has no use for it.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  EC_RETURN_IF_ERROR(LoadCertificateAndKey(ctx.get(), options.certificate_file, options.key_file));
  if (!options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), options.ciphers.c_str()) != 1) {
    return OpenSslFailure("tls_ciphers \"" + options.ciphers + "\"");
  }
  if (!options.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), options.client_ca_file.c_str(), nullptr) != 1) {
      return OpenSslFailure("loading client CA list " + options.client_ca_file);
    }
    int mode = SSL_VERIFY_PEER;
    if (options.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx.get(), mode, nullptr);
  }
  return ctx;
}

Result<std::shared_ptr<SSL_CTX>> MakeClientContext(const ClientTlsOptions& options) {
  std::shared_ptr<SSL_CTX> ctx = Share(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return OpenSslFailure("creating TLS client context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), options.ca_file.c_str(), nullptr) != 1) {
      return OpenSslFailure("loading CA list " + options.ca_file);
    }
  } else {
    SSL_CTX_set_default_verify_paths(ctx.get());
  }
  SSL_CTX_set_verify(ctx.get(), options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!options.certificate_file.empty()) {
    EC_RETURN_IF_ERROR(
        LoadCertificateAndKey(ctx.get(), options.certificate_file, options.key_file));
  }
  if (!options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), options.ciphers.c_str()) != 1) {
    return OpenSslFailure("tls_ciphers \"" + options.ciphers + "\"");
  }
  return ctx;
}

Status WriteSelfSignedCertificate(const std::string& certificate_file,
                                  const std::string& key_file, const std::string& common_name,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ip_addresses, int days) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> kctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  EVP_PKEY* raw_key = nullptr;
  if (!kctx || EVP_PKEY_keygen_init(kctx.get()) != 1 ||
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx.get(), NID_X9_62_prime256v1) != 1 ||
      EVP_PKEY_keygen(kctx.get(), &raw_key) != 1) {
    return OpenSslFailure("generating a P-256 key");
  }
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey(raw_key);
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!cert) return OpenSslFailure("allocating a certificate");
  X509_set_version(cert.get(), 2);
  // A random serial: two certificates made in the same second must still differ.
  BIGNUM* serial = BN_new();
  BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), pkey.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& d : dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  if (!san.empty()) EC_RETURN_IF_ERROR(AddExtension(cert.get(), NID_subject_alt_name, san));
  EC_RETURN_IF_ERROR(AddExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  if (X509_sign(cert.get(), pkey.get(), EVP_sha256()) == 0) {
    return OpenSslFailure("signing the certificate");
  }
  EC_RETURN_IF_ERROR(WritePem(key_file, 0600, true, pkey.get(), nullptr));
  return WritePem(certificate_file, 0644, false, nullptr, cert.get());
}

std::string DescribeSession(const SSL* ssl) {
  if (ssl == nullptr) return "";
  const char* cipher = SSL_get_cipher_name(ssl);
  return std::string(SSL_get_version(ssl)) + ":" + (cipher ? cipher : "?");
}

}  // namespace ec::tls
