#include "ecconfigd/enroll_command.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include "ecconfigd/enrol_store.h"
#include "ecconfigd/enroll_shell.h"
#include "ecconfigd/node_credential_store.h"
#include "ecconfigd/protocol.h"

namespace ec::ecconfigd {
namespace fs = std::filesystem;

Result<std::string> PublicKeyPin(const fs::path& pem_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(pem_file.c_str(), "r"), &std::fclose);
  if (!f) return NotFound("cannot read " + pem_file.string() + " (has ecconfigd started once?)");
  std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                              &X509_free);
  if (!cert) return InvalidArgument("no certificate in " + pem_file.string());
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  if (len <= 0) return Internal("cannot encode the certificate's public key");
  unsigned char digest[32];
  unsigned int size = 0;
  EVP_Digest(der, static_cast<size_t>(len), digest, &size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return "sha256//" + Base64Encode(std::string_view(reinterpret_cast<char*>(digest), size));
}

int RunEnroll(const EnrollOptions& o, std::ostream& out, std::ostream& err) {
  auto ttl = ParseTtl(o.ttl);
  if (!ttl.ok()) {
    err << "ecconfigd enroll: " << ttl.status().message() << "\n";
    return 1;
  }
  if (!o.address.empty() && !ValidPeerAddress(o.address)) {
    err << "ecconfigd enroll: bad --address '" << o.address << "'\n";
    return 1;
  }
  if (o.manager.empty()) {
    err << "ecconfigd enroll: --manager host[:port] is needed (how the new host reaches us)\n";
    return 1;
  }
  auto pin = PublicKeyPin(o.state_dir / "server.crt");
  if (!pin.ok()) {
    err << "ecconfigd enroll: " << pin.status().message() << "\n";
    return 2;
  }
  EnrolEntry entry;
  entry.node = o.node;
  entry.subcluster = o.subcluster;
  entry.address = o.address;
  int64_t now = UnixNow();
  auto token = EnrolStore(o.state_dir).Issue(entry, *ttl, now);
  if (!token.ok()) {
    err << "ecconfigd enroll: " << token.status().message() << "\n";
    return token.status().code() == StatusCode::kInvalidArgument ? 1 : 2;
  }
  char when[32];
  time_t t = static_cast<time_t>(now + ttl->count());
  tm utc{};
  gmtime_r(&t, &utc);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &utc);
  std::string manager = o.manager.find(':') == std::string::npos ? o.manager + ":2027" : o.manager;
  out << "Enrolment of " << o.node << " registered: one use, expires " << when << ".\n"
      << "Run this on the new host, as root (the token is shown only now):\n"
      << FormatEnrolShellCommand({.token = *token,
                                  .pin = *pin,
                                  .manager = manager,
                                  .node = o.node,
                                  .node_root = o.node_root})
      << "\n";
  return 0;
}

int RunRevoke(const fs::path& state_dir, const std::string& node, std::ostream& out,
              std::ostream& err) {
  NodeCredentialStore store(state_dir);
  Status revoked = store.Revoke(node);
  if (!revoked.ok()) {
    err << "ecconfigd revoke: " << revoked.message() << "\n";
    bool usage =
        revoked.code() == StatusCode::kInvalidArgument || revoked.code() == StatusCode::kNotFound;
    return usage ? 1 : 2;
  }
  out << "Fetch credential of " << node << " revoked: its next fetch or long poll is refused.\n"
      << "Nodes bootstrapped with the cluster secret keep it: rotate cluster.secret to cut "
      << "them off. The node stays in global/msgc_server.conf and global/msgc_keys until you "
      << "remove it there (docs/operator-guide.md, Removing a node).\n";
  if (auto file = store.Read(); file.ok()) {
    for (const std::string& error : file->errors) {
      err << "ecconfigd revoke: warning: " << store.file().string() << " " << error << "\n";
    }
  }
  return 0;
}

}  // namespace ec::ecconfigd
