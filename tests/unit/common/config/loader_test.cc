// include / readonly_include, the search path (explicit, EC_CONF_SEARCH_PATH, default),
// directory includes, cycles and every loader limit.
#include "common/config/loader.h"

#include <stdlib.h>

#include "tests/unit/common/config/test_util.h"

namespace ec::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

class LoaderTest : public ::testing::Test {
 protected:
  LoadOptions Options() const {
    LoadOptions o;
    o.use_environment = false;
    o.search_path = {(dir_.path() / "etc/conf/global").string(),
                     (dir_.path() / "etc/conf/default").string()};
    return o;
  }
  std::shared_ptr<const Config> Load(const std::string& path, const LoadOptions& o) {
    diags_.clear();
    return ParseConfigFile(path, o, &diags_);
  }
  std::string Errors() const {
    std::string out;
    for (const std::string& m : testing::Messages(diags_)) out += m + "\n";
    return out;
  }
  // Values of option `name` in the root, in order.
  static std::vector<std::string> Values(const Config& c, const std::string& name) {
    std::vector<std::string> out;
    for (const Option& o : c.root.options) {
      if (o.name == name) out.push_back(o.value.text());
    }
    return out;
  }

  TempDir dir_;
  Diagnostics diags_;
};

TEST_F(LoaderTest, DefaultSearchPathFollowsTheRoot) {
  EXPECT_THAT(DefaultSearchPath("/opt/ecmta", "node1"),
              ElementsAre("/opt/ecmta/etc", "/opt/ecmta/etc/conf/global",
                          "/opt/ecmta/etc/conf/node1", "/opt/ecmta/etc/conf/default"));
  EXPECT_THAT(DefaultSearchPath("/r", ""),
              ElementsAre("/r/etc", "/r/etc/conf/global", "/r/etc/conf/default"));
  EXPECT_THAT(SplitSearchPath("a::b:"), ElementsAre("a", "b"));
}

TEST_F(LoaderTest, IncludeInsertsStatementsInPlaceInAnyScope) {
  std::string main = dir_.Write("etc/conf/default/ecelerity.conf",
                                "a = 1\n"
                                "ESMTP_Listener {\n"
                                "  include \"listen.conf\"\n"
                                "}\n"
                                "a = 3\n");
  dir_.Write("etc/conf/default/listen.conf", "Listen \":25\" { }\nidle_time = 60\n");
  auto c = Load(main, Options());
  ASSERT_EQ(Errors(), "");
  const Scope& l = c->root.children.at(0);
  ASSERT_EQ(l.children.size(), 1u);
  EXPECT_EQ(l.children[0].location.file, dir_.path() / "etc/conf/default/listen.conf");
  EXPECT_EQ(l.FindOption("idle_time")->location.line, 2);
  EXPECT_THAT(Values(*c, "a"), ElementsAre("1", "3"));
  EXPECT_EQ(c->files.size(), 2u);
}

TEST_F(LoaderTest, RelativeIncludeTriesTheIncludersDirectoryFirstThenTheSearchPath) {
  std::string main = dir_.Write("etc/conf/default/ecelerity.conf",
                                "include \"a.conf\"\ninclude \"msgc_server.conf\"\n");
  dir_.Write("etc/conf/default/a.conf", "x = default_dir\n");
  dir_.Write("etc/conf/global/a.conf", "x = global_dir\n");
  dir_.Write("etc/conf/global/msgc_server.conf", "y = from_global\n");
  auto c = Load(main, Options());
  ASSERT_EQ(Errors(), "");
  EXPECT_THAT(Values(*c, "x"), ElementsAre("default_dir"));
  EXPECT_THAT(Values(*c, "y"), ElementsAre("from_global"));
}

TEST_F(LoaderTest, SearchPathOrderAndNodeDirectory) {
  dir_.Write("etc/conf/default/ecelerity.conf", "include \"shared.conf\"\n");
  dir_.Write("etc/conf/node1/shared.conf", "who = node1\n");
  dir_.Write("etc/conf/default/shared.conf", "who = default\n");
  // The main file is found through the search path; the includer's directory (default/) would
  // win for shared.conf, so put the main file in etc/ instead to see the path order.
  dir_.Write("etc/ecelerity.conf", "include \"shared.conf\"\n");
  LoadOptions o;
  o.use_environment = false;
  o.root = dir_.path().string();
  o.node_name = "node1";
  auto c = Load("ecelerity.conf", o);
  ASSERT_EQ(Errors(), "");
  EXPECT_THAT(Values(*c, "who"), ElementsAre("node1"));
  o.node_name = "node2";
  c = Load("ecelerity.conf", o);
  ASSERT_EQ(Errors(), "");
  EXPECT_THAT(Values(*c, "who"), ElementsAre("default"));
}

TEST_F(LoaderTest, EnvironmentSearchPathWinsOverTheDefaultButNotAnExplicitOne) {
  dir_.Write("env/inc.conf", "from = env\n");
  dir_.Write("explicit/inc.conf", "from = explicit\n");
  std::string main = dir_.Write("main/m.conf", "include \"inc.conf\"\n");
  ASSERT_EQ(setenv(kSearchPathEnv, ("/nonexistent:" + (dir_.path() / "env").string()).c_str(), 1),
            0);
  LoadOptions o;
  o.root = dir_.path().string();
  auto c = Load(main, o);
  EXPECT_EQ(Errors(), "");
  EXPECT_THAT(Values(*c, "from"), ElementsAre("env"));
  o.search_path = {(dir_.path() / "explicit").string()};
  c = Load(main, o);
  EXPECT_THAT(Values(*c, "from"), ElementsAre("explicit"));
  unsetenv(kSearchPathEnv);
  o.search_path.clear();
  c = Load(main, o);
  EXPECT_THAT(Errors(), HasSubstr("include \"inc.conf\": not found (searched "));
}

TEST_F(LoaderTest, DirectoryIncludeReadsVisibleRegularFilesAlphabeticallyWithoutRecursion) {
  std::string main = dir_.Write("m.conf", "include \"d\"\n");
  dir_.Write("d/20-b.conf", "v = b\n");
  dir_.Write("d/10-a.conf", "v = a\n");
  dir_.Write("d/.hidden.conf", "v = hidden\n");
  dir_.Write("d/sub/30-c.conf", "v = nested\n");
  auto c = Load(main, Options());
  ASSERT_EQ(Errors(), "");
  EXPECT_THAT(Values(*c, "v"), ElementsAre("a", "b"));
}

TEST_F(LoaderTest, MissingIncludeNamesWhereItLooked) {
  std::string main = dir_.Write("m.conf", "\n  include \"nope.conf\"\ninclude \"/abs/nope\"\n");
  Load(main, Options());
  EXPECT_THAT(Errors(),
              HasSubstr(main + ":2:3: error: include \"nope.conf\": not found (searched " +
                        dir_.path().string() + ":" + (dir_.path() / "etc/conf/global").string()));
  EXPECT_THAT(Errors(), HasSubstr(":3:1: error: include \"/abs/nope\": not found\n"));
}

TEST_F(LoaderTest, MissingMainFile) {
  Load("no-such.conf", Options());
  EXPECT_THAT(Errors(),
              HasSubstr("no-such.conf: error: cannot open configuration file: not found"));
}

TEST_F(LoaderTest, IncludeCycleIsNamedAndStops) {
  std::string a = dir_.Write("a.conf", "include \"b.conf\"\nx = 1\n");
  dir_.Write("b.conf", "include \"a.conf\"\n");
  auto c = Load(a, Options());
  std::string canonical = std::filesystem::weakly_canonical(dir_.path()).string();
  EXPECT_THAT(Errors(), HasSubstr("b.conf:1:1: error: include cycle: " + canonical + "/a.conf -> " +
                                  canonical + "/b.conf -> " + canonical + "/a.conf"));
  EXPECT_THAT(Values(*c, "x"), ElementsAre("1"));
  // A file including itself.
  std::string self = dir_.Write("self.conf", "include \"self.conf\"\n");
  Load(self, Options());
  EXPECT_THAT(Errors(), HasSubstr("include cycle"));
}

TEST_F(LoaderTest, IncludeDepthLimit) {
  for (int i = 0; i < 20; ++i) {
    dir_.Write("f" + std::to_string(i) + ".conf",
               "include \"f" + std::to_string(i + 1) + ".conf\"\n");
  }
  dir_.Write("f20.conf", "deepest = 1\n");
  LoadOptions o = Options();
  o.limits.max_include_depth = 5;
  auto c = Load((dir_.path() / "f0.conf").string(), o);
  EXPECT_THAT(Errors(), HasSubstr("f4.conf:1:1: error: includes nested deeper than 5 files"));
  EXPECT_TRUE(Values(*c, "deepest").empty());
}

TEST_F(LoaderTest, FileSizeAndFileCountLimits) {
  std::string big = dir_.Write("big.conf", "a = " + std::string(2000, 'x') + "\n");
  std::string main = dir_.Write("m.conf", "include \"big.conf\"\n");
  LoadOptions o = Options();
  o.limits.max_file_size = 1000;
  Load(main, o);
  EXPECT_THAT(Errors(), HasSubstr("m.conf:1:1: error: " + big +
                                  " is 2005 bytes, more than the limit of 1000"));

  for (int i = 0; i < 5; ++i) dir_.Write("many/" + std::to_string(i) + ".conf", "v = 1\n");
  main = dir_.Write("n.conf", "include \"many\"\n");
  o = Options();
  o.limits.max_files = 3;
  auto c = Load(main, o);
  EXPECT_THAT(Errors(), HasSubstr("more than 3 configuration files included"));
  EXPECT_EQ(Values(*c, "v").size(), 2u);  // the main file counts
}

TEST_F(LoaderTest, NestingLimitCountsScopesAcrossIncludes) {
  std::string main = dir_.Write("m.conf", "a { b { include \"in.conf\" } }\n");
  dir_.Write("in.conf", "c { d { } }\n");
  LoadOptions o = Options();
  o.limits.max_nesting = 3;
  Load(main, o);
  EXPECT_THAT(Errors(), HasSubstr("in.conf:1:7: error: nesting deeper than 3 levels"));
}

TEST_F(LoaderTest, ReadonlyIncludeAndDoubleIncludeMarkNodesReadOnly) {
  std::string main = dir_.Write("m.conf",
                                "own = 1\n"
                                "readonly_include \"ro.conf\"\n"
                                "include \"twice.conf\"\n"
                                "Domain \"x\" { include \"twice.conf\" }\n"
                                "include \"once.conf\"\n");
  dir_.Write("ro.conf", "ro = 1\nDomain \"r\" { inner = 1 }\ninclude \"once-ro.conf\"\n");
  dir_.Write("once-ro.conf", "nested_ro = 1\n");
  dir_.Write("twice.conf", "tw = 1\n");
  dir_.Write("once.conf", "rw = 1\n");
  auto c = Load(main, Options());
  ASSERT_EQ(Errors(), "");
  EXPECT_FALSE(c->root.FindOption("own")->read_only);
  EXPECT_TRUE(c->root.FindOption("ro")->read_only);
  EXPECT_TRUE(c->root.FindOption("nested_ro")->read_only);  // inherited through the include
  EXPECT_TRUE(c->root.children[0].read_only);
  EXPECT_TRUE(c->root.children[0].FindOption("inner")->read_only);
  EXPECT_TRUE(c->root.FindOption("tw")->read_only);
  EXPECT_TRUE(c->root.children[1].FindOption("tw")->read_only);
  EXPECT_FALSE(c->root.FindOption("rw")->read_only);
  EXPECT_FALSE(c->root.children[1].read_only);
}

TEST_F(LoaderTest, ParseConfigStringResolvesIncludesAgainstTheSearchPath) {
  dir_.Write("etc/conf/global/g.conf", "g = 1\n");
  Diagnostics diags;
  auto c = ParseConfigString("include \"g.conf\"\n", "<string>", Options(), &diags);
  EXPECT_TRUE(diags.empty());
  EXPECT_THAT(Values(*c, "g"), ElementsAre("1"));
}

}  // namespace
}  // namespace ec::config
