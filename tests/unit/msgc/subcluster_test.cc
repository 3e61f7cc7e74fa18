// Subclusters: the group an MTA node joins (from its cluster.boot) and the subcluster the manager
// reads back from a member's groups for the aggregated logs' %{s}; the file reader's cases.
#include "msgc/subcluster.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "msgc/codec.h"
#include "msgc/subcluster_file.h"

namespace ec::msgc {
namespace {

TEST(SubclusterTest, TheGroupANodeJoins) {
  EXPECT_EQ(*SubclusterGroup("east"), "ec_sc_east");
  EXPECT_EQ(*SubclusterGroup("default"), "ec_sc_default");
  EXPECT_EQ(*SubclusterGroup("East_2-b"), "ec_sc_East_2-b");
  const std::string longest(kMaxNameLength - kSubclusterGroupPrefix.size(), 'a');
  ASSERT_TRUE(SubclusterGroup(longest).ok());
  EXPECT_TRUE(IsValidGroupName(*SubclusterGroup(longest)));
  for (const std::string& bad :
       {std::string(), longest + "a", std::string("a b"), std::string("a/b"), std::string(".."),
        std::string("a.b"), std::string("x\n")}) {
    EXPECT_EQ(SubclusterGroup(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SubclusterTest, EveryByteOfAName) {
  for (int c = 0; c < 256; ++c) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-';
    EXPECT_EQ(IsValidSubclusterName("a" + std::string(1, static_cast<char>(c))), allowed) << c;
  }
}

TEST(SubclusterTest, FromClusterBoot) {
  EXPECT_EQ(*SubclusterFromClusterBoot(""), "default");
  EXPECT_EQ(*SubclusterFromClusterBoot("node_name=mta1\nrepo=mgr\n"), "default");
  EXPECT_EQ(*SubclusterFromClusterBoot("# written by eccfg bootstrap\ncluster_name=east\n"
                                       "node_name=mta1\nrepo=mgr:2027\n"),
            "east");
  EXPECT_EQ(*SubclusterFromClusterBoot("  cluster_name \t=  west \r\n"), "west");
  EXPECT_EQ(*SubclusterFromClusterBoot("cluster_name=a\ncluster_name=b"), "b");  // last wins
  EXPECT_EQ(*SubclusterFromClusterBoot("#cluster_name=east\n"), "default");
  EXPECT_EQ(*SubclusterFromClusterBoot("xcluster_name=east\nnot a pair\n"), "default");
  for (const char* bad : {"cluster_name=\n", "cluster_name=a b\n", "cluster_name=../x\n",
                          "cluster_name=a\ncluster_name=\n"}) {
    EXPECT_EQ(SubclusterFromClusterBoot(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SubclusterTest, OfAMembersGroups) {
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_console", "ec_sc_east", "ec_cluster"}), "east");
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_console", "ec_cluster"}), "default");
  EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_sc_"}), "default");
  // What a node joins is what the manager reads back.
  for (const char* name : {"east", "default", "a"}) {
    EXPECT_EQ(SubclusterOf(std::set<std::string>{"ec_console", *SubclusterGroup(name)}), name);
  }
}

TEST(SubclusterFileTest, MissingFileIsDefaultAndErrorsNameTheFile) {
  char tmpl[] = "/tmp/ectest-subcluster-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  EXPECT_EQ(*ReadSubcluster((dir / "cluster.boot").string()), "default");
  std::ofstream(dir / "cluster.boot") << "cluster_name=east\nnode_name=node2\n";
  EXPECT_EQ(*ReadSubcluster((dir / "cluster.boot").string()), "east");
  std::ofstream(dir / "cluster.boot") << "cluster_name=no way\n";
  auto bad = ReadSubcluster((dir / "cluster.boot").string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cluster.boot"), std::string::npos);
  EXPECT_FALSE(ReadSubcluster(dir.string()).ok());  // a directory is not a file
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ec::msgc
