// ecconfigd's untrusted-input limits without a network: the request-head parser, the per-address
// login throttle, and the password hash (new iteration count, old hashes still verifying).
#include <gtest/gtest.h>

#include <fstream>

#include "ecconfigd/auth.h"
#include "ecconfigd/http_request.h"
#include "ecconfigd/login_throttle.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {

TEST(HttpRequestHeadTest, ParsesAndRefusesSmugglingShapes) {
  auto ok = ParseHttpRequestHead(
      "POST /config/default/push?old=1 HTTP/1.1\r\nAuthorization: Basic eA==\r\n"
      "Content-Length: 12");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->method, "POST");
  EXPECT_EQ(ok->Header("authorization"), "Basic eA==");
  EXPECT_EQ(ok->content_length, 12u);
  for (const char* bad : {"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2",
                          "GET /x HTTP/1.1\r\nContent-Length: -1",
                          "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked",
                          "GET /x HTTP/1.1\r\n folded", "GET /x HTTP/1.1\r\nBad Name: 1",
                          "GET http://x/ HTTP/1.1", "GET /x HTTP/2", "GET /x\nHTTP/1.1",
                          "GET /x HTTP/1.1\r\nA: b\x01"}) {
    EXPECT_FALSE(ParseHttpRequestHead(bad).ok()) << bad;
  }
  std::string many = "GET /x HTTP/1.1";
  for (int i = 0; i <= static_cast<int>(kMaxHeaderFields); ++i) {
    many += "\r\nH" + std::to_string(i) + ": v";
  }
  EXPECT_FALSE(ParseHttpRequestHead(many).ok());
}

TEST(LoginThrottleTest, BlocksOneAddressForTheWindowOnly) {
  LoginThrottle throttle({.max_failures = 3, .window = std::chrono::seconds(60),
                          .max_addresses = 100});
  auto t0 = LoginThrottle::Clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.Blocked("127.0.0.1", t0).count(), 0);
    throttle.Failure("127.0.0.1", t0);
  }
  EXPECT_EQ(throttle.Blocked("127.0.0.1", t0).count(), 60);
  EXPECT_EQ(throttle.Blocked("127.0.0.2", t0).count(), 0);
  EXPECT_EQ(throttle.Blocked("127.0.0.1", t0 + std::chrono::seconds(59)).count(), 1);
  EXPECT_EQ(throttle.Blocked("127.0.0.1", t0 + std::chrono::seconds(60)).count(), 0);
  EXPECT_EQ(throttle.tracked(), 0u);
}

TEST(LoginThrottleTest, MemoryIsBounded) {
  LoginThrottle throttle({.max_failures = 2, .window = std::chrono::seconds(60),
                          .max_addresses = 50});
  auto t = LoginThrottle::Clock::now();
  for (int i = 0; i < 1000; ++i) {
    throttle.Failure("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                     t + std::chrono::milliseconds(i));
  }
  EXPECT_LE(throttle.tracked(), 50u);
}

class PasswordTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir("ecconfigd_pw"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(PasswordTest, NewHashesUseTheCurrentIterationCount) {
  auto file = dir_ / "passwd";
  ASSERT_TRUE(PasswordFile::SetPassword(file, "admin", "s3cret").ok());
  std::string line = test::ReadFile(file);
  EXPECT_NE(line.find("admin:pbkdf2-sha256:600000:"), std::string::npos) << line;
  EXPECT_GE(kPbkdf2Iterations, 600000);
  auto loaded = PasswordFile::Load(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->Verify("admin", "s3cret"));
  EXPECT_FALSE(loaded->Verify("admin", "s3cre"));
  EXPECT_FALSE(loaded->Verify("nobody", "s3cret"));
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(PasswordTest, OldHashesWithFewerIterationsStillVerify) {
  auto file = dir_ / "passwd";
  // Written by the old ecconfigd (20,000 iterations): the count is on the line.
  ASSERT_TRUE(PasswordFile::SetPassword(file, "old", "pw", 20000).ok());
  ASSERT_TRUE(PasswordFile::SetPassword(file, "new", "pw2").ok());
  std::string text = test::ReadFile(file);
  EXPECT_NE(text.find("old:pbkdf2-sha256:20000:"), std::string::npos);
  auto loaded = PasswordFile::Load(file);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->Verify("old", "pw"));
  EXPECT_TRUE(loaded->Verify("new", "pw2"));
  EXPECT_FALSE(loaded->Verify("old", "pw2"));
}

TEST_F(PasswordTest, SecretFilesAreWrittenWhole) {
  auto secret = LoadOrCreateSecret(dir_ / "cluster.secret");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 64u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cluster.secret.tmp"));
  EXPECT_EQ(*ReadSecret(dir_ / "cluster.secret"), *secret);
}

}  // namespace
}  // namespace ec::ecconfigd
