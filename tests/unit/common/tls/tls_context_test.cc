#include "common/tls/tls_context.h"

#include <openssl/err.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace ec::tls {
namespace {

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tls_test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, cert_, key_;
};

TEST_F(TlsContextTest, SelfSignedCertificateServesAHandshake) {
  ASSERT_TRUE(WriteSelfSignedCertificate(cert_, key_, "node1.test", {"node1.test"},
                                         {"127.0.0.1"})
                  .ok());
  struct stat st;
  ASSERT_EQ(::stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto server = MakeServerContext({.certificate_file = cert_, .key_file = key_});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  // The client trusts exactly this certificate and verifies the chain.
  auto client = MakeClientContext({.ca_file = cert_, .verify_peer = true});
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  SslPtr s(SSL_new(server->get()));
  SslPtr c(SSL_new(client->get()));
  SSL_set_fd(s.get(), fds[0]);
  SSL_set_fd(c.get(), fds[1]);
  int server_rc = 0;
  std::thread t([&] { server_rc = SSL_accept(s.get()); });
  int client_rc = SSL_connect(c.get());
  t.join();
  EXPECT_EQ(client_rc, 1) << LastOpenSslError();
  EXPECT_EQ(server_rc, 1);
  EXPECT_EQ(SSL_get_verify_result(c.get()), X509_V_OK);
  EXPECT_NE(DescribeSession(c.get()).find("TLSv1."), std::string::npos);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(TlsContextTest, MissingOrMismatchedFilesAreClearErrors) {
  auto missing = MakeServerContext({.certificate_file = dir_ + "/nope.pem", .key_file = key_});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.pem"), std::string::npos);

  ASSERT_TRUE(WriteSelfSignedCertificate(cert_, key_, "a", {}, {}).ok());
  std::string other_cert = dir_ + "/b.pem", other_key = dir_ + "/bkey.pem";
  ASSERT_TRUE(WriteSelfSignedCertificate(other_cert, other_key, "b", {}, {}).ok());
  auto mismatch = MakeServerContext({.certificate_file = cert_, .key_file = other_key});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("does not match"), std::string::npos);

  auto bad_ciphers =
      MakeServerContext({.certificate_file = cert_, .key_file = key_, .ciphers = "NO-SUCH"});
  ASSERT_FALSE(bad_ciphers.ok());
  EXPECT_NE(bad_ciphers.status().message().find("tls_ciphers"), std::string::npos);
}

}  // namespace
}  // namespace ec::tls
