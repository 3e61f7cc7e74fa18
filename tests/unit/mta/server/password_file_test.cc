#include "mta/server/password_file.h"

#include <gtest/gtest.h>

namespace ec::mta {
namespace {

TEST(PasswordFile, CleartextAndCryptHashes) {
  // The hash is `openssl passwd -6 -salt abcdefgh s3cret`.
  auto file = PasswordFile::Parse(
      "# users\n"
      "alice:wonderland\n"
      "\n"
      "bob:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\r\n",
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
}  // namespace ec::mta
