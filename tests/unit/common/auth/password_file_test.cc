#include "common/auth/password_file.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <time.h>

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

// This thread's CPU time in microseconds: unlike wall time, other processes on a loaded
// machine do not add to it.
double ThreadCpuMicros() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

// Median CPU time of Check(user, "wrong password") for each of `users`, in microseconds, over
// `n` rounds that take the users in turn (so a change in the machine's speed hits them alike).
std::vector<double> MedianMicros(const PasswordFile& file, const std::vector<std::string>& users,
                                 int n) {
  std::vector<std::vector<double>> t(users.size());
  for (int i = 0; i < n; ++i) {
    for (size_t u = 0; u < users.size(); ++u) {
      const double start = ThreadCpuMicros();
      EXPECT_FALSE(file.Check(users[u], "wrong password"));
      t[u].push_back(ThreadCpuMicros() - start);
    }
  }
  std::vector<double> medians;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    medians.push_back(v[v.size() / 2]);
  }
  return medians;
}

// An unknown user must not cost less than a known one with a wrong password (user
// enumeration): the same crypt(3) work. Medians with a wide tolerance.
TEST(PasswordFile, UnknownUserCostsAsMuchAsWrongPassword) {
  crypt_data data{};
  const char* hash = crypt_r("s3cret", "$6$rounds=20000$saltsaltsalt$", &data);
  ASSERT_NE(hash, nullptr);
  auto file = PasswordFile::Parse("alice:wonderland\nbob:" + std::string(hash) + "\n", "users");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Check("bob", "s3cret"));
  const std::vector<double> m = MedianMicros(**file, {"bob", "nobody"}, 7);
  const double known = m[0], unknown = m[1];
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
