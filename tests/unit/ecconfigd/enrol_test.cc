// Enrolment: tokens (issue, check, spend, expiry, another node's token, a race for one token),
// the clone package (names, tar/gzip framing read back by stock tar) and the peers list edit.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ecconfigd/enrol_package.h"
#include "ecconfigd/enrol_request.h"
#include "ecconfigd/enrol_store.h"
#include "ecconfigd/enrol_tokens.h"
#include "msgc/bus_options.h"
#include "msgc/node_name.h"
#include "msgc/subcluster.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {

constexpr int64_t kNow = 1'000'000;

TEST(EnrolTokensTest, TokensAreRandomAndStoredAsHashes) {
  auto a = NewToken(), b = NewToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), kEnrolTokenBytes * 2);  // hex: 192 bits
  EXPECT_NE(*a, *b);
  EnrolEntry e{"node2", "default", "", HashToken(*a), kNow + 60, false};
  std::string text = RenderEnrolTokens({e});
  EXPECT_EQ(text.find(*a), std::string::npos);
  auto back = ParseEnrolTokens(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].hash, e.hash);
  EXPECT_EQ((*back)[0].expires, e.expires);
}

TEST(EnrolTokensTest, FindSaysWhyATokenIsRefused) {
  std::vector<EnrolEntry> entries = {
      {"node2", "default", "", HashToken("t2"), kNow + 60, false},
      {"node3", "default", "", HashToken("t3"), kNow + 60, true},
      {"node4", "default", "", HashToken("t4"), kNow - 1, false}};
  auto ok = FindEnrolment(entries, "node2", "t2", kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 0u);
  auto why = [&](std::string_view node, std::string_view token) {
    auto r = FindEnrolment(entries, node, token, kNow);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
    return r.status().message();
  };
  EXPECT_EQ(why("node2", "nope"), "unknown enrolment token");
  EXPECT_EQ(why("node2", ""), "unknown enrolment token");
  EXPECT_EQ(why("node9", "t2"), "the enrolment token is not for node node9");
  EXPECT_EQ(why("node3", "t3"), "the enrolment token was already used");
  EXPECT_EQ(why("node4", "t4"), "the enrolment token has expired");
  // Expiry is exclusive: the last valid second is expires - 1.
  EXPECT_TRUE(FindEnrolment(entries, "node2", "t2", kNow + 59).ok());
  EXPECT_FALSE(FindEnrolment(entries, "node2", "t2", kNow + 60).ok());
}

TEST(EnrolTokensTest, ParsingRefusesDamagedLines) {
  std::string hash(64, 'a');
  EXPECT_TRUE(ParseEnrolTokens("# c\n\nn1 default - " + hash + " 5 pending\n").ok());
  for (const std::string& bad : std::vector<std::string>{"n1 default - " + hash + " 5", "N1 default - " + hash + " 5 pending",
                          "n1 default - abc 5 pending", "n1 default - " + hash + " x pending",
                          "n1 default - " + hash + " 5 maybe", "n1 de/f - " + hash + " 5 spent",
                          "n1 default a\"b " + hash + " 5 spent"}) {
    EXPECT_FALSE(ParseEnrolTokens(bad + "\n").ok()) << bad;
  }
}

TEST(EnrolTokensTest, NewEnrolmentReplacesTheNodesLineAndDropsOldOnes) {
  std::vector<EnrolEntry> entries = {
      {"node2", "default", "", HashToken("old"), kNow + 60, false},
      {"node3", "default", "", HashToken("x"), kNow - kKeepSpentSeconds - 1, true},
      {"node4", "default", "", HashToken("y"), kNow - 10, true}};
  auto out = WithEnrolment(entries, {"node2", "default", "", HashToken("new"), kNow + 5, false},
                           kNow);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].node, "node4");
  EXPECT_EQ(out[1].hash, HashToken("new"));
}

TEST(EnrolTokensTest, Ttl) {
  EXPECT_EQ(ParseTtl("90").value(), std::chrono::seconds(90));
  EXPECT_EQ(ParseTtl("2s").value(), std::chrono::seconds(2));
  EXPECT_EQ(ParseTtl("30m").value(), std::chrono::seconds(1800));
  EXPECT_EQ(ParseTtl("1h").value(), std::chrono::seconds(3600));
  EXPECT_EQ(ParseTtl("30d").value(), std::chrono::seconds(30 * 86400));
  for (const char* bad : {"", "h", "0", "-1h", "31d", "1x", "1.5h", "99999999999999999999"}) {
    EXPECT_FALSE(ParseTtl(bad).ok()) << bad;
  }
}

class EnrolStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir("enrol_store"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(EnrolStoreTest, IssueCheckRedeemOnce) {
  EnrolStore store(dir_);
  auto token = store.Issue({"node2", "default", "10.0.0.2", "", 0, false},
                           std::chrono::seconds(60), kNow);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(std::filesystem::status(store.file()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(test::ReadFile(store.file()).find(*token), std::string::npos);
  EXPECT_TRUE(store.Check("node2", *token, kNow).ok());
  EXPECT_TRUE(store.Check("node2", *token, kNow).ok());  // checking spends nothing
  // A failing action leaves the token unspent.
  auto failed = store.Redeem("node2", *token, kNow, [](const EnrolEntry&) {
    return FailedPrecondition("commit failed");
  });
  EXPECT_EQ(failed.status().code(), StatusCode::kFailedPrecondition);
  int actions = 0;
  auto done = store.Redeem("node2", *token, kNow, [&](const EnrolEntry& e) {
    EXPECT_EQ(e.address, "10.0.0.2");
    ++actions;
    return Status::Ok();
  });
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto again = store.Redeem("node2", *token, kNow, [&](const EnrolEntry&) {
    ++actions;
    return Status::Ok();
  });
  EXPECT_EQ(again.status().message(), "the enrolment token was already used");
  EXPECT_EQ(actions, 1);
  EXPECT_EQ(store.Check("node2", *token, kNow).status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(store.Issue({"Bad/Name", "default", "", "", 0, false}, std::chrono::seconds(60),
                           kNow)
                   .ok());
}

TEST_F(EnrolStoreTest, BadFieldsAreRefusedAndTheFileStaysReadable) {
  EnrolStore store(dir_);
  auto good = store.Issue({"node2", "default", "", "", 0, false}, std::chrono::seconds(60), kNow);
  ASSERT_TRUE(good.ok());
  // A subcluster or address with a space or newline would add fields or lines to enrol.tokens.
  for (EnrolEntry bad : {EnrolEntry{"node3", "a b", "", "", 0, false},
                         EnrolEntry{"node3", "x\nnode9", "", "", 0, false},
                         EnrolEntry{"node3", "default", "1.2.3.4 x", "", 0, false}}) {
    EXPECT_EQ(store.Issue(bad, std::chrono::seconds(60), kNow).status().code(),
              StatusCode::kInvalidArgument)
        << bad.subcluster << " " << bad.address;
  }
  EXPECT_TRUE(store.Check("node2", *good, kNow).ok());
}

TEST_F(EnrolStoreTest, ExpiredTokenChangesNothing) {
  EnrolStore store(dir_);
  auto token = store.Issue({"node2", "default", "", "", 0, false}, std::chrono::seconds(5), kNow);
  ASSERT_TRUE(token.ok());
  std::string before = test::ReadFile(store.file());
  int actions = 0;
  auto r = store.Redeem("node2", *token, kNow + 5, [&](const EnrolEntry&) {
    ++actions;
    return Status::Ok();
  });
  EXPECT_EQ(r.status().message(), "the enrolment token has expired");
  EXPECT_EQ(actions, 0);
  EXPECT_EQ(test::ReadFile(store.file()), before);
}

TEST_F(EnrolStoreTest, RacingRedeemsOneWins) {
  EnrolStore store(dir_);
  auto token = store.Issue({"node2", "default", "", "", 0, false}, std::chrono::seconds(60), kNow);
  ASSERT_TRUE(token.ok());
  std::atomic<int> won{0}, actions{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      EnrolStore mine(dir_);  // each its own object: only the file lock serialises them
      auto r = mine.Redeem("node2", *token, kNow, [&](const EnrolEntry&) {
        ++actions;
        std::this_thread::yield();
        return Status::Ok();
      });
      if (r.ok()) ++won;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(actions.load(), 1);
}

TEST(EnrolPackageTest, NamesAreCheckedAndTarReadsBack) {
  for (const char* bad : {"", "/etc/x", "../x", "etc/../x", "etc//x", "etc/", "./x", "a b",
                          "etc/x\n"}) {
    EXPECT_FALSE(ValidPackagePath(bad)) << bad;
  }
  EXPECT_FALSE(BuildTarGz({{"../evil", "x", 0644}}).ok());
  auto files = ClonePackageFiles("node2", "default", "manager:2027", "PEM\n");
  for (const auto& f : files) EXPECT_TRUE(ValidPackagePath(f.path)) << f.path;
  std::string big(70000, 'z');  // more than one stored deflate block
  files.push_back({"etc/big", big, 0600});
  auto tgz = BuildTarGz(files);
  ASSERT_TRUE(tgz.ok());
  auto dir = test::MakeTempDir("enrol_pkg");
  test::WriteFile(dir / "p.tgz", *tgz);
  auto listed = test::Sh("tar tzvf " + (dir / "p.tgz").string());
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  auto r = test::Sh("mkdir " + (dir / "root").string() + " && tar xzf " +
                    (dir / "p.tgz").string() + " -C " + (dir / "root").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::ReadFile(dir / "root/etc/ecconfigd.crt"), "PEM\n");
  EXPECT_EQ(test::ReadFile(dir / "root/etc/big"), big);
  std::string boot = test::ReadFile(dir / "root/etc/cluster.boot");
  EXPECT_NE(boot.find("node_name=node2\n"), std::string::npos);
  EXPECT_NE(boot.find("repo=manager:2027\n"), std::string::npos);
  EXPECT_EQ(boot.find("secret"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(EnrolPackageTest, AddsAndReplacesBusPeers) {
  std::string conf =
      "msgc_server {\n  # peers = [ old ]\n  peers = [\n    manager = \"10.0.0.1\"  # m ]\n"
      "    node1 = \"10.0.0.2\"\n  ]\n  port = 4809\n}\n";
  auto added = AddBusPeer(conf, "node2", "10.0.0.3");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_NE(added->find("    node1 = \"10.0.0.2\"\n    node2 = \"10.0.0.3\"\n  ]\n"),
            std::string::npos)
      << *added;
  auto replaced = AddBusPeer(*added, "node1", "10.0.0.9");
  ASSERT_TRUE(replaced.ok());
  EXPECT_NE(replaced->find("node1 = \"10.0.0.9\""), std::string::npos) << *replaced;
  EXPECT_EQ(replaced->find("10.0.0.2"), std::string::npos);
  auto one_line = AddBusPeer("peers = [ a = \"1\" ]\n", "b", "2");
  ASSERT_TRUE(one_line.ok());
  EXPECT_EQ(*one_line, "peers = [ a = \"1\"  b = \"2\" ]\n");
  EXPECT_EQ(AddBusPeer("port = 1\n", "b", "2").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(AddBusPeer(conf, "x\" ]", "2").ok());
  EXPECT_FALSE(AddBusPeer(conf, "x", "1\"2").ok());
}

TEST(EnrolRequestTest, ParsesTargetsAndBodies) {
  auto c = ParseEnrolTarget("/clone/node2?token=abc");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, EnrolTarget::Kind::kClone);
  EXPECT_EQ(c->node, "node2");
  EXPECT_EQ(c->token, "abc");
  EXPECT_EQ(ParseEnrolTarget("/clone/node2").status().code(), StatusCode::kPermissionDenied);
  auto e = ParseEnrolTarget("/enrol/node2");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, EnrolTarget::Kind::kEnrol);
  for (const char* bad : {"/clone/../x?token=a", "/enrol/", "/enrol/a/b", "/clone/A?token=a"}) {
    EXPECT_FALSE(ParseEnrolTarget(bad).ok()) << bad;
  }
  EXPECT_EQ(ParseEnrolTarget("/enrol/mta1.east")->node, "mta1.east");
  std::string key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  EXPECT_EQ(ParseEnrolBody(key + "\n").value(), key);
  EXPECT_FALSE(ParseEnrolBody(key.substr(1)).ok());
  EXPECT_FALSE(ParseEnrolBody(key.substr(1) + "\"").ok());
  // Every character is Z85, but "#####" is 85^5 - 1, beyond the 32 bits a group encodes.
  EXPECT_FALSE(ParseEnrolBody(std::string(40, '#')).ok());
  EXPECT_TRUE(ParseHostHeader("manager.example:2027").ok());
  EXPECT_FALSE(ParseHostHeader("a\nrepo=/x").ok());
}

// Enrolment takes a node name exactly when the bus does: a name one accepts, the other accepts.
TEST(EnrolNamesTest, EnrolmentAndTheBusAgree) {
  auto dir = test::MakeTempDir("enrol_names");
  EnrolStore store(dir);
  for (const char* name : {"node2", "mta1.east", "a-b_c.d", "0", ".", "..", ".x", "-x", "_x", "a/b",
                           "a b", "Node", "a\"b", "a@b"}) {
    msgc::BusOptions bus;
    bus.self = name;
    bus.peers = {{name, "127.0.0.1"}};
    bus.port = 4809;
    const bool on_bus =
        msgc::ValidateBusOptions(bus).message().find(msgc::kNodeNameRule) == std::string::npos;
    EXPECT_EQ(on_bus, msgc::IsValidNodeName(name)) << name;
    const bool issued =
        store.Issue({name, "default", "", "", 0, false}, std::chrono::seconds(60), kNow).ok();
    EXPECT_EQ(issued, on_bus) << name;
    EXPECT_EQ(ParseEnrolTarget(std::string("/enrol/") + name).ok(), on_bus) << name;
    EXPECT_EQ(AddBusPeer("peers = [ a = \"1\" ]\n", name, "10.0.0.3").ok(), on_bus) << name;
  }
  // Subclusters: what ecconfigd takes, an enrolled node can join on the bus (ec_sc_<name>).
  for (size_t n : {size_t{1}, size_t{58}, size_t{59}, size_t{64}}) {
    const std::string sc(n, 's');
    const bool issued =
        store.Issue({"node5", sc, "", "", 0, false}, std::chrono::seconds(60), kNow).ok();
    EXPECT_EQ(issued, msgc::SubclusterGroup(sc).ok()) << n;
    EXPECT_EQ(issued, n <= 58) << n;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ec::ecconfigd
