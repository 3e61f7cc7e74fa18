#include "manager/dashboard/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ec::manager::dashboard {
namespace {

StatusCode CodeOf(std::string_view path) { return ResolveStaticPath(path).status().code(); }

TEST(StaticFiles, ServesTheDashboardsFilesWithFixedTypes) {
  auto index = ResolveStaticPath("/");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->relative, "index.html");
  EXPECT_STREQ(index->content_type, "text/html; charset=utf-8");
  auto js = ResolveStaticPath("/dashboard.js");
  ASSERT_TRUE(js.ok());
  EXPECT_STREQ(js->content_type, "text/javascript; charset=utf-8");
  auto css = ResolveStaticPath("/dashboard%2Ecss");  // escapes are decoded first
  ASSERT_TRUE(css.ok());
  EXPECT_EQ(css->relative, "dashboard.css");
  EXPECT_STREQ(css->content_type, "text/css; charset=utf-8");
  auto nested = ResolveStaticPath("/img/logo.svg");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->relative, "img/logo.svg");
}

TEST(StaticFiles, NothingOutsideTheRoot) {
  for (const char* path :
       {"/../etc/passwd", "/..", "/a/../index.html", "/%2e%2e/etc/passwd", "/%2E%2E%2Fetc.html",
        "/a%2f..%2findex.html", "/.hidden.html", "/./index.html", "/a\\..\\b.html",
        "/index.html%00.js", "/x%zz.html", "/x%4.html", "/x%", "index.html", "",
        "/sp ace.html"}) {
    EXPECT_EQ(CodeOf(path), StatusCode::kInvalidArgument) << path;
  }
}

TEST(StaticFiles, UnknownNamesAreNotFound) {
  for (const char* path :
       {"/etc/passwd", "/x.sh", "/index.html/", "//index.html", "/a//b.js", "/js", "/html"}) {
    EXPECT_EQ(CodeOf(path), StatusCode::kNotFound) << path;
  }
}

TEST(StaticFiles, PercentDecode) {
  EXPECT_EQ(*PercentDecode("a%20b%2F%2f"), "a b//");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%2").ok());
  EXPECT_FALSE(PercentDecode("%g0").ok());
}

TEST(StaticFiles, ReadsRegularFilesOnlyNotLinks) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ec_dash_static_" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "sub.html");
  std::ofstream(root / "index.html") << "<p>hi</p>";
  std::ofstream(root / "outside.txt") << "secret";
  fs::create_symlink(root / "outside.txt", root / "link.txt");
  auto body = ReadStaticFile(root.string(), *ResolveStaticPath("/"));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "<p>hi</p>");
  EXPECT_EQ(ReadStaticFile(root.string(), *ResolveStaticPath("/link.txt")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ReadStaticFile(root.string(), *ResolveStaticPath("/sub.html")).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ReadStaticFile(root.string(), *ResolveStaticPath("/none.js")).status().code(),
            StatusCode::kNotFound);
  {
    std::ofstream big(root / "big.js");
    big << std::string(kMaxStaticFileSize + 1, 'x');
  }
  EXPECT_EQ(ReadStaticFile(root.string(), *ResolveStaticPath("/big.js")).status().code(),
            StatusCode::kNotFound);
  fs::remove_all(root);
}

}  // namespace
}  // namespace ec::manager::dashboard
