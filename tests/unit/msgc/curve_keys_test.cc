#include "msgc/curve_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace ec::msgc {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class MsgcCurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "msgc_keys.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void WriteFile(const std::string& name, const std::string& content, mode_t mode = 0600) {
    std::ofstream(Path(name)) << content;
    ::chmod(Path(name).c_str(), mode);
  }
  fs::path dir_;
};

TEST_F(MsgcCurveKeysTest, GeneratedPairsAreValidAndDistinct) {
  auto a = GenerateKeyPair();
  auto b = GenerateKeyPair();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(IsValidZ85Key(a->public_key));
  EXPECT_TRUE(IsValidZ85Key(a->secret_key));
  EXPECT_NE(a->secret_key, b->secret_key);
  EXPECT_EQ(*PublicKeyFor(a->secret_key), a->public_key);
  EXPECT_EQ(BinaryToZ85(*Z85ToBinary(a->public_key)), a->public_key);
  EXPECT_FALSE(IsValidZ85Key("short"));
  EXPECT_FALSE(IsValidZ85Key(std::string(40, ' ')));
}

TEST_F(MsgcCurveKeysTest, SecretKeyFileIsPrivateAndRoundTrips) {
  auto pair = GenerateKeyPair();
  ASSERT_TRUE(WriteSecretKeyFile(Path("n1.key"), *pair).ok());
  struct stat st;
  ASSERT_EQ(::stat(Path("n1.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = ReadSecretKeyFile(Path("n1.key"));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->secret_key, pair->secret_key);
  EXPECT_EQ(read->public_key, pair->public_key);
}

TEST_F(MsgcCurveKeysTest, ReadableSecretKeyFileIsRefused) {
  auto pair = GenerateKeyPair();
  ASSERT_TRUE(WriteSecretKeyFile(Path("n1.key"), *pair).ok());
  ::chmod(Path("n1.key").c_str(), 0640);
  auto read = ReadSecretKeyFile(Path("n1.key"));
  EXPECT_EQ(read.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(MsgcCurveKeysTest, BrokenSecretKeyFilesNameTheProblem) {
  auto a = GenerateKeyPair();
  auto b = GenerateKeyPair();
  WriteFile("mismatch.key", "public = " + b->public_key + "\nsecret = " + a->secret_key + "\n");
  EXPECT_THAT(ReadSecretKeyFile(Path("mismatch.key")).status().message(),
              HasSubstr("does not match"));
  WriteFile("nosecret.key", "# only a comment\n");
  EXPECT_THAT(ReadSecretKeyFile(Path("nosecret.key")).status().message(), HasSubstr("no `secret"));
  WriteFile("garbage.key", "secret = abc\n");
  EXPECT_THAT(ReadSecretKeyFile(Path("garbage.key")).status().message(),
              HasSubstr("garbage.key:1: not a Z85"));
  WriteFile("unknown.key", "\nother = " + a->secret_key + "\n");
  EXPECT_THAT(ReadSecretKeyFile(Path("unknown.key")).status().message(),
              HasSubstr("unknown.key:2: unknown entry"));
  EXPECT_EQ(ReadSecretKeyFile(Path("missing.key")).status().code(), StatusCode::kNotFound);
}

TEST_F(MsgcCurveKeysTest, LoadOrCreateMakesThePairOnceAndPublishesThePublicHalf) {
  auto first = LoadOrCreateKeyPair(Path("n1.key"), Path("n1.pub"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = LoadOrCreateKeyPair(Path("n1.key"), Path("n1.pub"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->secret_key, first->secret_key);
  EXPECT_EQ(*ReadPublicKeyFile(Path("n1.pub")), first->public_key);
  auto keys = ReadPeerPublicKeys(dir_.string(), {"n1"});
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->at("n1"), first->public_key);
  EXPECT_EQ(ReadPeerPublicKeys(dir_.string(), {"n1", "n2"}).status().code(), StatusCode::kNotFound);
}

TEST_F(MsgcCurveKeysTest, PublicKeyFileErrors) {
  WriteFile("empty.pub", "# nothing\n", 0644);
  EXPECT_THAT(ReadPublicKeyFile(Path("empty.pub")).status().message(), HasSubstr("no key"));
  WriteFile("bad.pub", "not-a-key\n", 0644);
  EXPECT_THAT(ReadPublicKeyFile(Path("bad.pub")).status().message(), HasSubstr("not a Z85"));
  EXPECT_FALSE(WritePublicKeyFile(Path("x.pub"), "nope").ok());
}

}  // namespace
}  // namespace ec::msgc
