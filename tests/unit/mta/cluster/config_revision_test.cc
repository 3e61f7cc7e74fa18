// The config revision read from the eccfg checkout a configuration was loaded through.
#include "mta/cluster/config_revision.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ec::mta::cluster {
namespace {
namespace fs = std::filesystem;

TEST(RevisionOfCheckout, TakesTheRevisionOfAWellFormedName) {
  EXPECT_EQ(RevisionOfCheckout("conf", "conf.0123456789ab.k3x9z0aa"), "0123456789ab");
  EXPECT_EQ(RevisionOfCheckout("wc", "wc.ffffffffffff.00000000"), "ffffffffffff");
}

TEST(RevisionOfCheckout, AnythingElseIsEmpty) {
  for (const char* target : {
           "", "conf", "conf.", "conf.0123456789ab", "conf.0123456789ab.",
           "conf.0123456789ab.k3x9z0a",     // short random part
           "conf.0123456789ab.k3x9z0aaa",   // long random part
           "conf.0123456789a.k3x9z0aaa",    // short revision
           "conf.0123456789abc.k3x9z0a",    // long revision
           "conf.0123456789AB.k3x9z0aa",    // upper case hex
           "conf.0123456789ag.k3x9z0aa",    // not hex
           "conf.0123456789ab.k3x9z0A_",    // outside [0-9a-z]
           "conf_0123456789ab.k3x9z0aa", "conf.0123456789ab_k3x9z0aa",
           "cong.0123456789ab.k3x9z0aa",    // another working copy's checkout
           ".conf.swap.k3x9z0aa", "/etc/conf.0123456789ab.k3x9z0aa",
       }) {
    EXPECT_EQ(RevisionOfCheckout("conf", target), "") << target;
  }
  EXPECT_EQ(RevisionOfCheckout("", ".0123456789ab.k3x9z0aa"), "");
  EXPECT_EQ(RevisionOfCheckout("con", "conf.0123456789ab.k3x9z0a"), "");
}

class ConfigRevisionOfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ecd2_revision.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string File(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "# test\n";
    return path.string();
  }
  fs::path dir_;
};

TEST_F(ConfigRevisionOfTest, ReadsTheCheckoutTheLinkPointsAt) {
  fs::create_directories(dir_ / "etc/conf.0123456789ab.abcdefgh/default");
  fs::create_symlink("conf.0123456789ab.abcdefgh", dir_ / "etc/conf");
  const std::string plain = File(dir_ / "etc/ecelerity.conf");
  const std::string in_checkout = File(dir_ / "etc/conf/default/ecelerity.conf");
  EXPECT_EQ(ConfigRevisionOf({in_checkout}), "0123456789ab");
  // The main file outside the working copy, an include inside it.
  EXPECT_EQ(ConfigRevisionOf({plain, in_checkout}), "0123456789ab");
  EXPECT_EQ(ConfigRevisionOf({plain}), "");
  // An absolute link with a trailing slash names the same checkout.
  fs::remove(dir_ / "etc/conf");
  fs::create_symlink((dir_ / "etc/conf.0123456789ab.abcdefgh/").string(), dir_ / "etc/conf");
  EXPECT_EQ(ConfigRevisionOf({in_checkout}), "0123456789ab");
}

TEST_F(ConfigRevisionOfTest, NoRevisionWithoutACheckoutLink) {
  EXPECT_EQ(ConfigRevisionOf({}), "");
  // A plain directory, even one named like a checkout: nothing says it is applied.
  EXPECT_EQ(ConfigRevisionOf({File(dir_ / "conf/default/ecelerity.conf")}), "");
  EXPECT_EQ(ConfigRevisionOf({File(dir_ / "conf.0123456789ab.abcdefgh/x.conf")}), "");
  // A symlink to something that is not a checkout name.
  fs::create_directories(dir_ / "elsewhere");
  fs::create_symlink("elsewhere", dir_ / "link");
  EXPECT_EQ(ConfigRevisionOf({File(dir_ / "link/x.conf")}), "");
  // A dangling path and an in-memory name.
  EXPECT_EQ(ConfigRevisionOf({(dir_ / "missing/x.conf").string(), "<string>"}), "");
}

}  // namespace
}  // namespace ec::mta::cluster
