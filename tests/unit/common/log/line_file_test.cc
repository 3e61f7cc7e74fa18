#include "common/log/line_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ec::log {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LineFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ec-linefile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LineFileTest, AppendsWholeLines) {
  auto file = LineFile::Open((dir_ / "mainlog").string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append("first").ok());
  ASSERT_TRUE((*file)->Append("second\n").ok());
  ASSERT_TRUE((*file)->Append("").ok());
  EXPECT_EQ(ReadFile(dir_ / "mainlog"), "first\nsecond\n\n");
}

TEST_F(LineFileTest, AppendsToExistingContent) {
  { std::ofstream(dir_ / "mainlog") << "old\n"; }
  auto file = LineFile::Open((dir_ / "mainlog").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("new").ok());
  EXPECT_EQ(ReadFile(dir_ / "mainlog"), "old\nnew\n");
}

TEST_F(LineFileTest, ReopenFollowsRename) {
  auto file = LineFile::Open((dir_ / "mainlog").string());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("before").ok());
  std::filesystem::rename(dir_ / "mainlog", dir_ / "mainlog.1");
  ASSERT_TRUE((*file)->Append("after rename").ok());
  ASSERT_TRUE((*file)->Reopen().ok());
  ASSERT_TRUE((*file)->Append("after reopen").ok());
  EXPECT_EQ(ReadFile(dir_ / "mainlog.1"), "before\nafter rename\n");
  EXPECT_EQ(ReadFile(dir_ / "mainlog"), "after reopen\n");
}

TEST_F(LineFileTest, OpenInMissingDirectoryFails) {
  auto file = LineFile::Open((dir_ / "no" / "such" / "mainlog").string());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(file.status().message().find("mainlog"), std::string::npos);
}

TEST_F(LineFileTest, FailedReopenKeepsWriting) {
  auto file = LineFile::Open((dir_ / "sub" / "mainlog").string());
  EXPECT_FALSE(file.ok());
  std::filesystem::create_directory(dir_ / "sub");
  file = LineFile::Open((dir_ / "sub" / "mainlog").string());
  ASSERT_TRUE(file.ok());
  std::filesystem::rename(dir_ / "sub", dir_ / "gone");
  EXPECT_FALSE((*file)->Reopen().ok());
  ASSERT_TRUE((*file)->Append("still here").ok());
  EXPECT_EQ(ReadFile(dir_ / "gone" / "mainlog"), "still here\n");
}

}  // namespace
}  // namespace ec::log
