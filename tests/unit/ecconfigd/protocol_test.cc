// Request targets, credentials and response framing of the ecconfigd protocol; the password file.
#include "ecconfigd/protocol.h"

#include <gtest/gtest.h>

#include "ecconfigd/auth.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {

TEST(ProtocolTest, ParsesRequestTargets) {
  auto t = ParseRequestTarget("/config/default/push?old=ab%63&new=x+y&flag");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->subcluster, "default");
  EXPECT_EQ(t->operation, "push");
  EXPECT_EQ(t->params.at("old"), "abc");
  EXPECT_EQ(t->params.at("new"), "x y");
  EXPECT_EQ(t->params.at("flag"), "");
  EXPECT_EQ(ParseRequestTarget("/config/../etc/fetch").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRequestTarget("/config/default/delete").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseRequestTarget("/other").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(ParseRequestTarget("/config/default/fetch?have=%4").ok());
}

TEST(ProtocolTest, CredentialsRoundTrip) {
  std::string header = FormatBasicAuth({"admin", "p:ss word"});
  EXPECT_EQ(header, "Basic YWRtaW46cDpzcyB3b3Jk");
  auto c = ParseBasicAuth(header);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user, "admin");
  EXPECT_EQ(c->password, "p:ss word");
  EXPECT_FALSE(ParseBasicAuth("Basic !!!!").ok());
  EXPECT_FALSE(ParseBasicAuth("Bearer abc").ok());
  EXPECT_EQ(*ParseBearer("bearer  tok "), "tok");
  for (std::string s : {"", "a", "ab", "abc", "abcd"}) EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  EXPECT_FALSE(Base64Decode("a=bc").ok());
}

TEST(ProtocolTest, ParsesResponses) {
  auto r = ParseHttpResponse(
      "HTTP/1.1 409 Conflict\r\nX-EC-Head: abc\r\nContent-Length: 5\r\n\r\nstale!");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(r->Header("x-ec-head"), "abc");
  EXPECT_EQ(r->body, "stale");
  auto chunked = ParseHttpResponse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(chunked.ok());
  EXPECT_EQ(chunked->body, "abcde");
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").ok());
  EXPECT_FALSE(ParseHttpResponse("garbage\r\n\r\n").ok());
  EXPECT_FALSE(
      ParseHttpResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").ok());
}

TEST(AuthTest, PasswordFileVerifiesSaltedHashes) {
  auto dir = test::MakeTempDir("ecconfigd_auth");
  auto file = dir / "passwd";
  // 10,000 iterations: what is checked here is the salting; limits_test.cc checks the count
  // (600,000 take seconds of CPU under AddressSanitizer).
  ASSERT_TRUE(PasswordFile::SetPassword(file, "admin", "s3cret", 10000).ok());
  ASSERT_TRUE(PasswordFile::SetPassword(file, "ops", "s3cret", 10000).ok());
  std::string text = test::ReadFile(file);
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  // Same password, different salts: different lines.
  auto first = text.substr(text.find(':'), text.find('\n') - text.find(':'));
  EXPECT_EQ(text.find(first, text.find('\n')), std::string::npos);
  auto loaded = PasswordFile::Load(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->Verify("admin", "s3cret"));
  EXPECT_FALSE(loaded->Verify("admin", "wrong"));
  EXPECT_FALSE(loaded->Verify("nobody", "s3cret"));
  auto secret = LoadOrCreateSecret(dir / "cluster.secret");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 64u);
  EXPECT_EQ(*LoadOrCreateSecret(dir / "cluster.secret"), *secret);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ec::ecconfigd
