// Per-node fetch credentials: the pure file format and checks (node_credentials.h), and the store
// (node_credential_store.h): issue, verify, wrong secret, another node's secret, revoke, the file
// round trip (mode 0600, hashes only), a damaged line that loses nothing, and a revocation made
// by another store object (another process) seen by a running one without a restart.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "ecconfigd/node_credential_store.h"
#include "ecconfigd/node_credentials.h"
#include "ecconfigd/protocol.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::ecconfigd {
namespace {

const std::string kSalt(32, 'a');
const std::string kSecret(64, '5');

TEST(NodeCredentialsTest, VerifiesOnlyTheNodesOwnSecret) {
  NodeCredentialFile file;
  file.entries = {MakeNodeCredential("node2", kSecret, kSalt, 100),
                  MakeNodeCredential("node3", "other", std::string(32, 'b'), 100)};
  EXPECT_TRUE(VerifyNodeCredential(file, "node2", kSecret));
  EXPECT_TRUE(VerifyNodeCredential(file, "node3", "other"));
  EXPECT_FALSE(VerifyNodeCredential(file, "node2", "other"));  // another node's secret
  EXPECT_FALSE(VerifyNodeCredential(file, "node3", kSecret));
  EXPECT_FALSE(VerifyNodeCredential(file, "node9", kSecret));  // unknown node
  EXPECT_FALSE(VerifyNodeCredential(file, "node2", ""));
  EXPECT_FALSE(VerifyNodeCredential(file, "node2", kSecret + "x"));
  EXPECT_FALSE(VerifyNodeCredential(file, "node2", kSecret.substr(1)));
  // The salt is part of the hash: the same secret under another salt hashes differently.
  EXPECT_NE(MakeNodeCredential("n", kSecret, kSalt, 0).hash,
            MakeNodeCredential("n", kSecret, std::string(32, 'c'), 0).hash);
  // Nobody can pass for an unknown node with the all-zero salt's empty hash.
  EXPECT_FALSE(VerifyNodeCredential(NodeCredentialFile(), "node9", ""));
}

TEST(NodeCredentialsTest, RenderParseRoundTripKeepsHashesOnly) {
  NodeCredentialFile file;
  file.entries = {MakeNodeCredential("node2", kSecret, kSalt, 1700000000),
                  MakeNodeCredential("web-1.a_b", "s", std::string(32, '0'), 0)};
  std::string text = RenderNodeCredentials(file);
  EXPECT_EQ(text.find(kSecret), std::string::npos);
  auto back = ParseNodeCredentials(text);
  EXPECT_TRUE(back.errors.empty()) << back.errors.front();
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.entries[0].node, "node2");
  EXPECT_EQ(back.entries[0].issued, 1700000000);
  EXPECT_EQ(back.entries[0].salt, kSalt);
  EXPECT_EQ(back.entries[0].hash, file.entries[0].hash);
  EXPECT_TRUE(VerifyNodeCredential(back, "web-1.a_b", "s"));
  EXPECT_EQ(RenderNodeCredentials(back), text);
}

TEST(NodeCredentialsTest, DamagedLinesAreReportedAndKeptWithoutLosingOthers) {
  std::string good2 = "node2 5 sha256 " + kSalt + " " + std::string(64, 'f');
  std::string good4 = "node4 5 sha256 " + kSalt + " " + std::string(64, 'e');
  std::string text = "# comment\n\n" + good2 + "\n" +
                     "node3 5 sha256 " + kSalt + " nothex\n" +      // line 4
                     "Bad! 5 sha256 " + kSalt + " " + std::string(64, 'f') + "\n" +
                     "node5 5 md5 " + kSalt + " " + std::string(64, 'f') + "\n" +
                     "node6 -1 sha256 " + kSalt + " " + std::string(64, 'f') + "\n" +
                     "node7 5 sha256 abc " + std::string(64, 'f') + "\n" +
                     "node8 5 sha256\n" + good4 + "\n" +
                     "node2 6 sha256 " + kSalt + " " + std::string(64, 'd') + "\r\n";
  auto file = ParseNodeCredentials(text);
  ASSERT_EQ(file.entries.size(), 2u);
  EXPECT_EQ(file.entries[0].node, "node2");
  EXPECT_EQ(file.entries[0].hash, std::string(64, 'f'));  // the first of two lines counts
  EXPECT_EQ(file.entries[1].node, "node4");
  ASSERT_EQ(file.errors.size(), 7u);
  EXPECT_EQ(file.errors[0], "line 4: bad hash");
  EXPECT_EQ(file.errors[1], "line 5: bad node name");
  EXPECT_EQ(file.errors[2], "line 6: unknown hash scheme (expected sha256)");
  EXPECT_EQ(file.errors[3], "line 7: bad issue time");
  EXPECT_EQ(file.errors[4], "line 8: bad salt");
  EXPECT_EQ(file.errors[5], "line 9: expected 5 fields (node issued sha256 salt hash)");
  EXPECT_EQ(file.errors[6], "line 11: node node2 listed twice (the first line counts)");
  // Rewritten, nothing is lost: the damaged lines come back verbatim.
  auto again = ParseNodeCredentials(RenderNodeCredentials(file));
  EXPECT_EQ(again.entries.size(), 2u);
  EXPECT_EQ(again.damaged, file.damaged);
  // Re-issuing or revoking a node drops its damaged lines too, and only those.
  auto fresh = WithNodeCredential(file, MakeNodeCredential("node3", kSecret, kSalt, 9));
  EXPECT_TRUE(VerifyNodeCredential(fresh, "node3", kSecret));
  EXPECT_EQ(fresh.damaged.size(), file.damaged.size() - 1);
  bool removed = false;
  auto gone = WithoutNodeCredential(file, "node2", &removed);
  EXPECT_TRUE(removed);
  EXPECT_FALSE(VerifyNodeCredential(gone, "node2", kSecret));
  EXPECT_EQ(gone.entries.size(), 1u);
  EXPECT_EQ(gone.damaged.size(), file.damaged.size() - 1);  // node2's second line went too
  gone = WithoutNodeCredential(gone, "node8", &removed);
  EXPECT_TRUE(removed);  // only a damaged line named it
  gone = WithoutNodeCredential(gone, "node9", &removed);
  EXPECT_FALSE(removed);
}

TEST(NodeCredentialsTest, FetchAuthorizationRoundTrips) {
  // A node's credential goes out as Basic and comes back as node and secret.
  std::string header = FetchAuthorization(FormatNodeCredential("node2", kSecret));
  EXPECT_EQ(header.rfind("Basic ", 0), 0u);
  auto c = ParseFetchAuthorization(header);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->node, "node2");
  EXPECT_EQ(c->secret, kSecret);
  // The cluster secret stays a Bearer token, as older ecconfigd versions expect.
  EXPECT_EQ(FetchAuthorization(kSecret), "Bearer " + kSecret);
  c = ParseFetchAuthorization("Bearer " + kSecret);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->node, "");
  EXPECT_EQ(c->secret, kSecret);
  // An older eccfg sends whatever enrolment gave it as a Bearer token.
  c = ParseFetchAuthorization("Bearer node2:" + kSecret);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->node, "node2");
  EXPECT_EQ(c->secret, kSecret);
  EXPECT_FALSE(ParseFetchAuthorization("Bearer :" + kSecret).ok());
  EXPECT_FALSE(ParseFetchAuthorization("").ok());
  EXPECT_FALSE(ParseFetchAuthorization("Digest x").ok());
  EXPECT_FALSE(ParseFetchAuthorization("Basic !!!").ok());
  // A name that is no node name never reaches the refusal text or the log.
  EXPECT_FALSE(ParseFetchAuthorization(FormatBasicAuth({"x\nforged=1", kSecret})).ok());
  EXPECT_FALSE(ParseFetchAuthorization(FormatBasicAuth({"", kSecret})).ok());
  EXPECT_FALSE(ParseFetchAuthorization("Bearer ../etc:" + kSecret).ok());
}

class NodeCredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::MakeTempDir("node_creds"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::pair<std::string, std::string> SplitCredential(const std::string& credential) {
  size_t colon = credential.find(':');
  return {credential.substr(0, colon), credential.substr(colon + 1)};
}

TEST_F(NodeCredentialStoreTest, IssueVerifyRevoke) {
  NodeCredentialStore server(dir_);
  auto a = server.Issue("node2", 100);
  auto b = server.Issue("node3", 100);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  auto [node_a, secret_a] = SplitCredential(*a);
  auto [node_b, secret_b] = SplitCredential(*b);
  EXPECT_EQ(node_a, "node2");
  EXPECT_EQ(secret_a.size(), 2 * kNodeSecretBytes);  // 256 bits, hex
  EXPECT_NE(secret_a, secret_b);
  EXPECT_TRUE(*server.Verify("node2", secret_a));
  EXPECT_TRUE(*server.Verify("node3", secret_b));
  EXPECT_FALSE(*server.Verify("node2", secret_b));
  EXPECT_FALSE(*server.Verify("node2", "wrong"));
  EXPECT_FALSE(*server.Verify("node4", secret_a));

  // File: mode 0600, salted hashes only, read back by a fresh store.
  struct stat st {};
  ASSERT_EQ(::stat(server.file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = test::ReadFile(server.file());
  EXPECT_EQ(text.find(secret_a), std::string::npos);
  EXPECT_TRUE(*NodeCredentialStore(dir_).Verify("node3", secret_b));

  // Revoked by another object (as `ecconfigd revoke` in another process): the running store
  // sees it on the next check, and the other node goes on.
  EXPECT_TRUE(NodeCredentialStore(dir_).Revoke("node2").ok());
  EXPECT_FALSE(*server.Verify("node2", secret_a));
  EXPECT_TRUE(*server.Verify("node3", secret_b));
  Status again = NodeCredentialStore(dir_).Revoke("node2");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(NodeCredentialStore(dir_).Revoke("../x").code(), StatusCode::kInvalidArgument);

  // Re-enrolment issues a new secret; the old one stays dead.
  auto c = server.Issue("node2", 200);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*server.Verify("node2", secret_a));
  EXPECT_TRUE(*server.Verify("node2", SplitCredential(*c).second));
}

TEST_F(NodeCredentialStoreTest, DamagedLineGivesAClearErrorAndLosesNothing) {
  NodeCredentialStore store(dir_);
  auto a = store.Issue("node2", 100);
  ASSERT_TRUE(a.ok());
  std::string text = test::ReadFile(store.file());
  test::WriteFile(store.file(), text + "node3 1 sha256 zz\n");
  auto file = store.Read();
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(file->errors.size(), 1u);
  EXPECT_EQ(file->errors[0], "line 3: expected 5 fields (node issued sha256 salt hash)");
  EXPECT_TRUE(*store.Verify("node2", SplitCredential(*a).second));
  // Another node's issue keeps both the good and the damaged line.
  auto b = store.Issue("node4", 100);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(test::ReadFile(store.file()).find("node3 1 sha256 zz\n"), std::string::npos);
  EXPECT_TRUE(*store.Verify("node2", SplitCredential(*a).second));
  EXPECT_TRUE(*store.Verify("node4", SplitCredential(*b).second));
  // Revoking the damaged line's node removes it.
  EXPECT_TRUE(store.Revoke("node3").ok());
  EXPECT_TRUE(store.Read()->errors.empty());
}

TEST_F(NodeCredentialStoreTest, RunAsRootTheFilesGoToTheStateDirsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);  // as the daemon's user owns its state dir
  NodeCredentialStore store(dir_);
  auto a = store.Issue("node2", 1);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(store.Issue("node3", 1).ok());
  ASSERT_TRUE(store.Revoke("node3").ok());
  for (const auto& path : {store.file(), store.lock_file()}) {
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u) << path;
    EXPECT_EQ(st.st_gid, 65534u) << path;
  }
  EXPECT_TRUE(*store.Verify("node2", SplitCredential(*a).second));
}

TEST_F(NodeCredentialStoreTest, MissingFileIsEmptyAndUnreadableIsAnError) {
  NodeCredentialStore store(dir_ / "none");
  auto ok = store.Verify("node2", kSecret);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(*ok);
  // A state "dir" that is a file: the credentials cannot be read, which is not "no credentials".
  test::WriteFile(dir_ / "plain", "x");
  auto broken = NodeCredentialStore(dir_ / "plain").Verify("node2", kSecret);
  EXPECT_FALSE(broken.ok());
}

}  // namespace
}  // namespace ec::ecconfigd
