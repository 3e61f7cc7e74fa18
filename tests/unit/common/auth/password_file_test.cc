#include "common/auth/password_file.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace ec::auth {
namespace {

TEST(PasswordFile, CleartextAndCryptHashes) {
  // The hash is `openssl passwd -6 -salt abcdefgh s3cret`.
  auto file = PasswordFile::Parse(
      "# users\n"
      "alice:wonderland\n"
      "\n"
      "bob:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"
      "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\r\n",
      "users");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->size(), 2u);
  EXPECT_TRUE((*file)->Check("alice", "wonderland"));
  EXPECT_FALSE((*file)->Check("alice", "wonderlan"));
  EXPECT_FALSE((*file)->Check("alice", "wonderland "));
  EXPECT_TRUE((*file)->Check("bob", "s3cret"));
  EXPECT_FALSE((*file)->Check("bob", "S3cret"));
  EXPECT_FALSE((*file)->Check("carol", ""));
  EXPECT_FALSE((*file)->Check("", ""));
}

// AUTH PLAIN decodes to bytes: a NUL must not cut the password short before crypt(3) sees it.
TEST(PasswordFile, PasswordWithNulIsRefusedNotTruncated) {
  auto file = PasswordFile::Parse(
      "alice:wonderland\n"
      "bob:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"
      "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\n",
      "users");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  using namespace std::string_view_literals;
  EXPECT_TRUE((*file)->Check("bob", "s3cret"));
  EXPECT_FALSE((*file)->Check("bob", "s3cret\0anything"sv));
  EXPECT_FALSE((*file)->Check("bob", "s3cret\0"sv));
  EXPECT_FALSE((*file)->Check("bob\0x"sv, "s3cret"));
  EXPECT_FALSE((*file)->Check("alice", "wonderland\0"sv));
}

// Median wall time of `n` calls of Check(user, password), in microseconds.
double MedianMicros(const PasswordFile& file, const std::string& user, int n) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(file.Check(user, "wrong password"));
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// An unknown user must not answer faster than a known one with a wrong password (user
// enumeration). Medians with a wide tolerance: the box may be loaded.
TEST(PasswordFile, UnknownUserCostsAsMuchAsWrongPassword) {
  crypt_data data{};
  const char* hash = crypt_r("s3cret", "$6$rounds=20000$saltsaltsalt$", &data);
  ASSERT_NE(hash, nullptr);
  auto file = PasswordFile::Parse("alice:wonderland\nbob:" + std::string(hash) + "\n", "users");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Check("bob", "s3cret"));
  const double known = MedianMicros(**file, "bob", 7);
  const double unknown = MedianMicros(**file, "nobody", 7);
  EXPECT_GT(unknown, known * 0.5) << "known " << known << " us, unknown " << unknown << " us";
  EXPECT_LT(unknown, known * 2.0) << "known " << known << " us, unknown " << unknown << " us";
}

TEST(PasswordFile, MalformedLineNamesFileAndLine) {
  auto file = PasswordFile::Parse("alice:x\nno colon here\n", "/etc/pw");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), "/etc/pw:2: expected user:password or user:$hash");
}

TEST(PasswordFile, UriForms) {
  EXPECT_EQ(*PasswordFile::PathFromUri("file:///etc/ecmta/passwd"), "/etc/ecmta/passwd");
  EXPECT_EQ(*PasswordFile::PathFromUri("/etc/passwd2"), "/etc/passwd2");
  EXPECT_FALSE(PasswordFile::PathFromUri("digest:///x").ok());
  EXPECT_FALSE(PasswordFile::Load("/nonexistent/pw").ok());
}

}  // namespace
}  // namespace ec::auth
