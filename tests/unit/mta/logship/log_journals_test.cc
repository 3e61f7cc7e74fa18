// Logger outputs that are journals: Momentum's cluster:// and jlog:// forms, and what the
// node's loggers make of a config.
#include "mta/logship/log_journals.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/config/check.h"

namespace ec::logship {
namespace {
namespace fs = std::filesystem;

TEST(JournalUriTest, MomentumForms) {
  auto a = ParseJournalUri("mainlog", "cluster:///var/log/ecelerity/mainlog.cluster=>master");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->dir, "/var/log/ecelerity/mainlog.cluster");
  EXPECT_EQ((*a)->subscribers, std::vector<std::string>{"master"});
  auto b = ParseJournalUri("bouncelog", "jlog:///j/b=>m1?subscribers=m2,m3");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->dir, "/j/b");
  EXPECT_EQ((*b)->subscribers, (std::vector<std::string>{"m1", "m2", "m3"}));
  auto plain = ParseJournalUri("mainlog", "/var/log/ecelerity/mainlog.ec");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->has_value());
}

TEST(JournalUriTest, BadFormsSayWhy) {
  EXPECT_FALSE(ParseJournalUri("mainlog", "cluster://relative=>master").ok());
  EXPECT_FALSE(ParseJournalUri("mainlog", "cluster:///j=>bad/name").ok());
  EXPECT_FALSE(ParseJournalUri("mainlog", "cluster:///j?other=1").ok());
}

TEST(LogJournalsTest, ConfigNamesJournalsAndAppendsReachThem) {
  fs::path dir = fs::temp_directory_path() / ("log_journals_test." + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string conf = (dir / "ecelerity.conf").string();
  {
    std::ofstream f(conf);
    f << "ec_logger \"ec_logger\" { mainlog = \"" << (dir / "mainlog.ec").string() << "\" }\n"
      << "ec_logger \"ec_logger_cluster\" { mainlog = \"cluster://"
      << (dir / "mainlog.cluster").string() << "=>master\" }\n"
      << "bounce_logger \"b\" { bouncelog = \"jlog://" << (dir / "bouncelog.cluster").string()
      << "=>master\" }\n";
  }
  auto config = config::LoadConfig(conf, config::LoadOptions{.root = dir.string()});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto specs = JournalSpecsFromConfig(**config);
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  ASSERT_EQ(specs->size(), 2u);
  auto journals = LogJournals::Open(*specs, 0);
  ASSERT_TRUE(journals.ok()) << journals.status().ToString();
  ASSERT_TRUE((*journals)->Append("mainlog", "line one").ok());
  ASSERT_TRUE((*journals)->Append("rejectlog", "no journal: ignored").ok());
  auto read = (*journals)->journals().at("mainlog")->Read("master", 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].payload, "line one");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ec::logship
